import { InputError } from '../../common/errors.ts';
import type { Comparison, ResultRow } from '../query/index.ts';
import type { ResultStore, Sweep } from '../store/store.ts';
import { defaultTrial, type ReportData } from './html.ts';

/**
 * Everything the report shows, for a sweep found, its results read and compared by the caller (who
 * shows them too, see sweepComparison): only the layer table and one trial's curves are read here.
 * `trial` (id or key) picks the trial section's trial; default {@link defaultTrial}.
 */
export async function loadReportData(
  store: ResultStore,
  sweep: Pick<Sweep, 'id' | 'name' | 'spec' | 'createdAt'>,
  results: ResultRow[],
  comparison: Comparison,
  options: { trial?: string } = {},
): Promise<ReportData> {
  const chosen = options.trial
    ? results.find((r) => r.trialId === options.trial || r.key === options.trial)
    : defaultTrial(results);
  if (options.trial && !chosen) throw new InputError(`no trial '${options.trial}' in sweep ${sweep.name}`);
  const curves = chosen ? await store.trialCurves(chosen.trialId) : null;
  return {
    sweep: { id: sweep.id, name: sweep.name, spec: sweep.spec, createdAt: sweep.createdAt },
    results,
    comparison,
    trial: chosen && curves ? { row: chosen, curves: curves.curves } : null,
    layers: await store.currentLayers(sweep.id),
  };
}
