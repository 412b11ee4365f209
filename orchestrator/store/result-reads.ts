// The reads of the query layer, the progress view and the report: a sweep's results (through the
// results_view the migrations create), a trial's curves, the layer table, and progress aggregates.
// Infinite compression (nothing left) is `Infinity` here.
import { provenanceSchema } from '../events/protocol.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { PruningType } from './generated/prisma/enums.ts';
import type {
  LayerRow,
  ProgressSnapshot,
  ResultFilter,
  ResultRow,
  StatusCounts,
  TrialCurves,
} from './store.ts';
import { IN_FLIGHT_STATUSES, type TrialStatus } from './trial-state.ts';

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
  prisma: PrismaClient,
  sweepId: string,
  filter: ResultFilter = {},
): Promise<ResultRow[]> {
  const rows = await prisma.$queryRaw<ViewRow[]>`
    SELECT trial_id, key, arch, dataset, pruner, pruning_type::text AS pruning_type, target_sparsity,
           target_compression, seed, status::text AS status, attempts, error, accuracy, best_accuracy, loss,
           seconds, direct_sparsity, effective_sparsity, direct_compression, effective_compression,
           backend, device, gpu, disconnected
    FROM results_view
    WHERE sweep_id = ${sweepId}
      AND (${filter.completedOnly ?? false}::boolean = false OR accuracy IS NOT NULL)
    ORDER BY arch, pruner, pruning_type, target_compression, seed, key`;
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
  const points = await prisma.metricPoint.findMany({
    where: { trialId, attempt, ...(options.names ? { name: { in: options.names } } : {}) },
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

export async function progressSnapshot(
  prisma: PrismaClient,
  sweepId: string,
  counts: StatusCounts,
): Promise<ProgressSnapshot> {
  const sweep = await prisma.sweep.findUniqueOrThrow({
    where: { id: sweepId },
    select: { id: true, name: true, status: true, createdAt: true, maxParallel: true },
  });
  const inFlight = await prisma.trial.findMany({
    where: { sweepId, status: { in: [...IN_FLIGHT_STATUSES] } },
    select: {
      pruner: true,
      pruningType: true,
      targetCompression: true,
      seed: true,
      attempts: true,
      attemptRows: {
        select: { number: true, step: true, totalSteps: true, backend: true, host: true, provenance: true },
      },
    },
    orderBy: { key: 'asc' },
  });
  // One aggregate rather than every finished trial's times: this runs at each refresh.
  const [{ mean }] = (await prisma.$queryRaw<{ mean: number | null }[]>`
    SELECT avg(extract(epoch FROM finished_at - started_at))::float8 AS mean FROM trial
    WHERE sweep_id = ${sweepId} AND status = 'completed' AND started_at IS NOT NULL
      AND finished_at IS NOT NULL`) as [{ mean: number | null }];
  return {
    sweep,
    counts,
    inFlight: inFlight.map(({ attemptRows, ...t }) => {
      const current = attemptRows.find((a) => a.number === t.attempts);
      const provenance = provenanceSchema.safeParse(current?.provenance);
      return {
        ...t,
        step: current?.step ?? null,
        totalSteps: current?.totalSteps ?? null,
        ranOn: current?.backend
          ? {
              backend: current.backend,
              device: provenance.success ? provenance.data.device : null,
              gpu: provenance.success ? provenance.data.gpu : null,
            }
          : null,
        host: current?.host ?? null,
      };
    }),
    meanSeconds: mean,
  };
}
