import type { Comparison, ResultRow } from '../query/index.ts';
import type { ResultStore, Sweep } from '../store/store.ts';
import type { ReportData } from './html.ts';

/**
 * Everything the report shows, for a sweep found, its results read and compared by the caller (who
 * shows them too, see sweepComparison): only the layer table is read here.
 */
export async function loadReportData(
  store: ResultStore,
  sweep: Pick<Sweep, 'id' | 'name' | 'spec' | 'createdAt'>,
  results: ResultRow[],
  comparison: Comparison,
): Promise<ReportData> {
  return {
    sweep: { id: sweep.id, name: sweep.name, spec: sweep.spec, createdAt: sweep.createdAt },
    results,
    comparison,
    layers: await store.currentLayers(sweep.id),
  };
}
