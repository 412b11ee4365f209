import type { PrismaClient } from '../db/client.ts';
import type { Sweep } from '../db/repositories.ts';
import type { Comparison, ResultRow } from '../query/index.ts';
import type { LayerRow, ReportData } from './html.ts';

/**
 * Everything the report shows, for a sweep found, its results read and compared by the caller (who
 * shows them too, see sweepComparison): only the layer table is read here.
 */
export async function loadReportData(
  prisma: PrismaClient,
  sweep: Pick<Sweep, 'id' | 'name' | 'spec' | 'createdAt'>,
  results: ResultRow[],
  comparison: Comparison,
): Promise<ReportData> {
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
