// The query layer the CLI (`esweep sweep results|compare`) and the reports use: the results of a
// sweep, pruners compared at matched effective compression (computed from those results, not read
// again), and a trial's curves. Infinite compression (nothing left) is `Infinity` here;
// JSON.stringify writes it as null, as docs/cli.md specifies.
import { logSpaced } from '../../common/grid.ts';
import type { PrismaClient } from '../db/client.ts';
import type { PruningType, TrialStatus } from '../db/generated/prisma/enums.ts';
import type { TrialParameters } from '../db/repositories.ts';

export * from './compare.ts';

export interface ResultRow extends TrialParameters {
  trialId: string;
  status: TrialStatus;
  attempts: number;
  error: string | null;
  /** The rest is null until the trial completed. */
  accuracy: number | null;
  bestAccuracy: number | null;
  loss: number | null;
  seconds: number | null;
  directSparsity: number | null;
  effectiveSparsity: number | null;
  directCompression: number | null;
  effectiveCompression: number | null;
}

export interface ResultFilter {
  /** Only completed trials (default: all). */
  completedOnly?: boolean;
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
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Every trial of a sweep with its result, ordered by arch, pruner, type, target compression, seed. */
export async function sweepResults(
  prisma: PrismaClient,
  sweepId: string,
  filter: ResultFilter = {},
): Promise<ResultRow[]> {
  const rows = await prisma.$queryRaw<ViewRow[]>`
    SELECT trial_id, key, arch, dataset, pruner, pruning_type::text AS pruning_type, target_sparsity,
           target_compression, seed, status::text AS status, attempts, error, accuracy, best_accuracy, loss,
           seconds, direct_sparsity, effective_sparsity, direct_compression, effective_compression
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
  }));
}

export interface TrialCurves {
  trialId: string;
  attempt: number;
  curves: Record<string, { step: number; value: number }[]>;
}

/** The training curves of a trial's attempt (default: its current one), sorted by step. */
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
