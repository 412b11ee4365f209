// The reads of the query layer, the progress view and the report: a sweep's results (through the
// results_view the migrations create), a trial's curves, the layer table, progress aggregates and a
// sweep's trials.
// Infinite compression (nothing left) is `Infinity` here.
//
// What the read-only commands (`sweep status|results|compare`) need is plain SQL through the driver
// (Database.query), so that those commands never load Prisma's query compiler; the casts in the SQL
// make PGlite and pg return the same JavaScript types.
import { provenanceSchema } from '../events/protocol.ts';
import type { Database } from './database.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { PruningType } from './generated/prisma/enums.ts';
import { type Sweep, sweepRecord, type Trial, type TrialRow, trialRecord } from './records.ts';
import type {
  LayerRow,
  ProgressSnapshot,
  ResultFilter,
  ResultRow,
  StatusCounts,
  TrialCurves,
} from './store.ts';
import { IN_FLIGHT_STATUSES, TRIAL_STATUSES, type TrialStatus } from './trial-state.ts';

type Query = Database['query'];

/** A sweep by id or by name (an id wins over another sweep's equal name). */
export async function findSweep(query: Query, idOrName: string): Promise<Sweep | null> {
  const [row] = await query<Omit<Sweep, 'spec'> & { spec: unknown }>(
    `SELECT id, name, spec, status::text AS status, backend, max_parallel AS "maxParallel", retries,
            created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt",
            resource_uid AS "resourceUid"
     FROM sweep WHERE id = $1 OR name = $1
     ORDER BY (id = $1) DESC LIMIT 1`,
    [idOrName],
  );
  return row ? sweepRecord(row) : null;
}

/** A sweep's trials by key, all or those in the given states. */
export async function listTrials(query: Query, sweepId: string, statuses?: TrialStatus[]): Promise<Trial[]> {
  const rows = await query<TrialRow>(
    `SELECT id, sweep_id AS "sweepId", key, arch, dataset, pruner, pruning_type::text AS "pruningType",
            target_sparsity AS "targetSparsity", target_compression AS "targetCompression", seed, budget,
            params, depends_on_id AS "dependsOnId", status::text AS status, attempts, job_name AS "jobName",
            error, retryable, created_at AS "createdAt", updated_at AS "updatedAt",
            started_at AS "startedAt", finished_at AS "finishedAt", heartbeat_at AS "heartbeatAt"
     FROM trial WHERE sweep_id = $1 AND ($2::text[] IS NULL OR status::text = ANY($2::text[]))
     ORDER BY key`,
    [sweepId, statuses ?? null],
  );
  return rows.map(trialRecord);
}

/** Trials by state of each sweep, in one query, by sweep id (every state present, 0 if none). */
export async function statusCountsBySweep(
  query: Query,
  sweepIds: string[],
): Promise<Map<string, StatusCounts>> {
  const rows = await query<{ sweep_id: string; status: TrialStatus; n: number }>(
    `SELECT sweep_id, status::text AS status, count(*)::int AS n FROM trial
     WHERE sweep_id = ANY($1::text[]) GROUP BY sweep_id, status`,
    [sweepIds],
  );
  const counts = new Map(
    sweepIds.map((id) => [id, Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as StatusCounts]),
  );
  for (const row of rows) counts.get(row.sweep_id)![row.status] = row.n;
  return counts;
}

interface ViewRow {
  trial_id: string;
  key: string;
  arch: string;
  dataset: string;
  pruner: string;
  pruning_type: PruningType;
  target_sparsity: number;
  target_compression: number;
  seed: number;
  status: TrialStatus;
  attempts: number;
  error: string | null;
  accuracy: number | null;
  best_accuracy: number | null;
  loss: number | null;
  seconds: number | null;
  direct_sparsity: number | null;
  effective_sparsity: number | null;
  direct_compression: number | null;
  effective_compression: number | null;
  backend: string | null;
  device: string | null;
  gpu: boolean | null;
  disconnected: boolean | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function sweepResults(
  query: Query,
  sweepId: string,
  filter: ResultFilter = {},
): Promise<ResultRow[]> {
  const rows = await query<ViewRow>(
    `SELECT trial_id, key, arch, dataset, pruner, pruning_type::text AS pruning_type, target_sparsity,
            target_compression, seed, status::text AS status, attempts, error, accuracy, best_accuracy, loss,
            seconds, direct_sparsity, effective_sparsity, direct_compression, effective_compression,
            backend, device, gpu, disconnected
     FROM results_view
     WHERE sweep_id = $1 AND ($2::boolean = false OR accuracy IS NOT NULL)
     ORDER BY arch, pruner, pruning_type, target_compression, seed, key`,
    [sweepId, filter.completedOnly ?? false],
  );
  return rows.map((r) => ({
    trialId: r.trial_id,
    key: r.key,
    arch: r.arch,
    dataset: r.dataset,
    pruner: r.pruner,
    pruningType: r.pruning_type,
    targetSparsity: Number(r.target_sparsity),
    targetCompression: Number(r.target_compression),
    seed: Number(r.seed),
    status: r.status,
    attempts: Number(r.attempts),
    error: r.error,
    accuracy: num(r.accuracy),
    bestAccuracy: num(r.best_accuracy),
    loss: num(r.loss),
    seconds: num(r.seconds),
    directSparsity: num(r.direct_sparsity),
    effectiveSparsity: num(r.effective_sparsity),
    directCompression: num(r.direct_compression),
    effectiveCompression: num(r.effective_compression),
    ranOn: r.backend === null ? null : { backend: r.backend, device: r.device, gpu: r.gpu },
    disconnected: r.disconnected === true,
  }));
}

export async function trialCurves(
  prisma: PrismaClient,
  trialId: string,
  options: { attempt?: number; names?: string[] } = {},
): Promise<TrialCurves | null> {
  const trial = await prisma.trial.findUnique({ where: { id: trialId }, select: { attempts: true } });
  if (!trial) return null;
  const attempt = options.attempt ?? trial.attempts;
  // The attempt's curve is its current incarnation's (the replaced processes' points stay stored).
  const row = await prisma.attempt.findUnique({
    where: { trialId_number: { trialId, number: attempt } },
    select: { incarnation: true },
  });
  const points = await prisma.metricPoint.findMany({
    where: {
      trialId,
      attempt,
      incarnation: row?.incarnation ?? '',
      ...(options.names ? { name: { in: options.names } } : {}),
    },
    select: { step: true, name: true, value: true },
    orderBy: [{ name: 'asc' }, { step: 'asc' }, { seq: 'asc' }, { idx: 'asc' }],
  });
  const curves: TrialCurves['curves'] = {};
  for (const p of points) {
    curves[p.name] ??= [];
    curves[p.name]!.push({ step: p.step, value: p.value });
  }
  return { trialId, attempt, curves };
}

export async function currentLayers(prisma: PrismaClient, sweepId: string): Promise<LayerRow[]> {
  const layers = await prisma.$queryRaw<
    { trial_id: string; idx: number; name: string; params: bigint; direct: bigint; effective: bigint }[]
  >`
    SELECT ls.trial_id, ls.idx, ls.name, ls.params, ls.direct, ls.effective
    FROM layer_sparsity ls JOIN trial t ON t.id = ls.trial_id AND ls.attempt = t.attempts
    JOIN attempt a ON a.trial_id = ls.trial_id AND a.number = ls.attempt AND a.incarnation = ls.incarnation
    WHERE t.sweep_id = ${sweepId}`;
  return layers.map((l) => ({
    trialId: l.trial_id,
    idx: Number(l.idx),
    name: l.name,
    params: Number(l.params),
    direct: Number(l.direct),
    effective: Number(l.effective),
  }));
}

/** A row of the in-flight query: the snapshot's entry before `ranOn` is made from these columns. */
type InFlightRow = Omit<ProgressSnapshot['inFlight'][number], 'ranOn'> & {
  backend: string | null;
  provenance: unknown;
};

export async function progressSnapshot(
  query: Query,
  sweepId: string,
  counts: StatusCounts,
): Promise<ProgressSnapshot> {
  const [sweep] = await query<ProgressSnapshot['sweep']>(
    `SELECT id, name, status::text AS status, created_at AS "createdAt", max_parallel AS "maxParallel"
     FROM sweep WHERE id = $1`,
    [sweepId],
  );
  if (!sweep) throw new Error(`no sweep ${sweepId}`);
  const inFlight = await query<InFlightRow>(
    `SELECT t.pruner, t.pruning_type::text AS "pruningType", t.target_compression AS "targetCompression",
            t.seed, t.attempts, a.step, a.total_steps AS "totalSteps", a.backend, a.host, a.provenance
     FROM trial t LEFT JOIN attempt a ON a.trial_id = t.id AND a.number = t.attempts
     WHERE t.sweep_id = $1 AND t.status::text = ANY($2::text[])
     ORDER BY t.key`,
    [sweepId, [...IN_FLIGHT_STATUSES]],
  );
  // One aggregate rather than every finished trial's times: this runs at each refresh.
  const [{ mean }] = (await query<{ mean: number | null }>(
    `SELECT avg(extract(epoch FROM finished_at - started_at))::float8 AS mean FROM trial
     WHERE sweep_id = $1 AND status = 'completed' AND started_at IS NOT NULL AND finished_at IS NOT NULL`,
    [sweepId],
  )) as [{ mean: number | null }];
  return {
    sweep,
    counts,
    inFlight: inFlight.map(({ backend, provenance: stored, ...t }) => {
      const provenance = provenanceSchema.safeParse(stored);
      return {
        ...t,
        ranOn: backend
          ? {
              backend,
              device: provenance.success ? provenance.data.device : null,
              gpu: provenance.success ? provenance.data.gpu : null,
            }
          : null,
      };
    }),
    meanSeconds: mean,
  };
}
