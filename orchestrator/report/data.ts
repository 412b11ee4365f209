import { InputError } from '../../common/errors.ts';
import type { PrismaClient } from '../db/client.ts';
import type { Sweep } from '../db/repositories.ts';
import { type Comparison, type ResultRow, trialCurves } from '../query/index.ts';
import { defaultTrial, type LayerRow, type ReportData } from './html.ts';

/**
 * Everything the report shows, for a sweep found, its results read and compared by the caller (who
 * shows them too, see sweepComparison): only the layer table and one trial's curves are read here.
 * `trial` (id or key) picks the trial section's trial; default {@link defaultTrial}.
 */
export async function loadReportData(
  prisma: PrismaClient,
  sweep: Pick<Sweep, 'id' | 'name' | 'spec' | 'createdAt'>,
  results: ResultRow[],
  comparison: Comparison,
  options: { trial?: string } = {},
): Promise<ReportData> {
  const chosen = options.trial
    ? results.find((r) => r.trialId === options.trial || r.key === options.trial)
    : defaultTrial(results);
  if (options.trial && !chosen) throw new InputError(`no trial '${options.trial}' in sweep ${sweep.name}`);
  const curves = chosen ? await trialCurves(prisma, chosen.trialId) : null;
  const layers = await prisma.$queryRaw<
    { trial_id: string; idx: number; name: string; params: bigint; direct: bigint; effective: bigint }[]
  >`
    SELECT ls.trial_id, ls.idx, ls.name, ls.params, ls.direct, ls.effective
    FROM layer_sparsity ls JOIN trial t ON t.id = ls.trial_id AND ls.attempt = t.attempts
    WHERE t.sweep_id = ${sweep.id}`;
  return {
    sweep: { id: sweep.id, name: sweep.name, spec: sweep.spec, createdAt: sweep.createdAt },
    results,
    comparison,
    trial: chosen && curves ? { row: chosen, curves: curves.curves } : null,
    layers: layers.map(
      (l): LayerRow => ({
        trialId: l.trial_id,
        idx: Number(l.idx),
        name: l.name,
        params: Number(l.params),
        direct: Number(l.direct),
        effective: Number(l.effective),
      }),
    ),
  };
}
