import { InputError } from '../../worker/errors.ts';
import type { PrismaClient } from '../db/client.ts';
import { comparePruners, sweepResults } from '../query/index.ts';
import type { LayerRow, ReportData } from './html.ts';

/** Everything the report shows, read from any esweep database (cluster or embedded). */
export async function loadReportData(prisma: PrismaClient, sweep: string): Promise<ReportData> {
  const found = await prisma.sweep.findFirst({ where: { OR: [{ id: sweep }, { name: sweep }] } });
  if (!found) throw new InputError(`no sweep with id or name '${sweep}'`);
  const [results, comparison, layers] = await Promise.all([
    sweepResults(prisma, found.id),
    comparePruners(prisma, found.id),
    prisma.$queryRaw<
      { trial_id: string; idx: number; name: string; params: bigint; direct: bigint; effective: bigint }[]
    >`
      SELECT ls.trial_id, ls.idx, ls.name, ls.params, ls.direct, ls.effective
      FROM layer_sparsity ls JOIN trial t ON t.id = ls.trial_id AND ls.attempt = t.attempts
      WHERE t.sweep_id = ${found.id}`,
  ]);
  return {
    sweep: { id: found.id, name: found.name, spec: found.spec, createdAt: found.createdAt },
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
