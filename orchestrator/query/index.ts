// The query layer the CLI (`esweep sweep results|compare`) and the reports use: pruners compared at
// matched effective compression, computed from a sweep's results as the store reads them
// (Store.sweepResults, Store.trialCurves). Infinite compression (nothing left) is `Infinity` there;
// JSON.stringify writes it as null, as DESIGN §3 asks.
import type { PruningType, ResultRow } from '../store/store.ts';

export type { ResultFilter, ResultRow, TrialCurves } from '../store/store.ts';

export type CompareMetric = 'accuracy' | 'bestAccuracy' | 'loss';

export interface CompareOptions {
  metric?: CompareMetric;
  /** Effective compressions to compare at; default `points` log-spaced over the observed range. */
  grid?: number[];
  points?: number;
}

export interface ComparePoint {
  compression: number;
  /** Mean over the seeds whose runs bracket this compression (null when none does). */
  mean: number | null;
  /** Sample standard deviation over those seeds (0 for one seed). */
  std: number | null;
  n: number;
}

export interface CompareSeries {
  pruner: string;
  pruningType: PruningType;
  seeds: number;
  points: ComparePoint[];
}

export interface ArchComparison {
  arch: string;
  grid: number[];
  series: CompareSeries[];
}

export interface Comparison {
  metric: CompareMetric;
  archs: ArchComparison[];
}

/** Log-spaced values from `lo` to `hi` inclusive. */
export function logGrid(lo: number, hi: number, points: number): number[] {
  if (points <= 1 || hi <= lo) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: points }, (_, i) => Math.exp(a + ((b - a) * i) / (points - 1)));
}

/**
 * The metric of a curve of (compression, value) points at compression `c`, interpolated linearly in
 * log-compression; undefined outside the curve's range (no extrapolation).
 */
export function interpolateLog(curve: { x: number; y: number }[], c: number): number | undefined {
  const x = Math.log(c);
  if (curve.length === 0) return undefined;
  const eps = 1e-9;
  if (x < curve[0]!.x - eps || x > curve[curve.length - 1]!.x + eps) return undefined;
  for (let i = 0; i < curve.length; i++) {
    const p = curve[i]!;
    if (Math.abs(p.x - x) <= eps) return p.y;
    const q = curve[i + 1];
    if (q && x > p.x && x < q.x) return p.y + ((q.y - p.y) * (x - p.x)) / (q.x - p.x);
  }
  return undefined;
}

function meanStd(values: number[]): { mean: number | null; std: number | null } {
  if (values.length === 0) return { mean: null, std: null };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/**
 * Pruners compared at equal *effective* compression, from a sweep's results as {@link sweepResults}
 * read them (callers that also show the rows read them once): each seed's (effective compression,
 * metric) curve is interpolated on log-compression at the grid points, then mean ± std over the seeds.
 * Trials not completed, and those with infinite effective compression (a disconnected network), do
 * not enter the curves.
 */
export function compareResults(results: ResultRow[], options: CompareOptions = {}): Comparison {
  const metric = options.metric ?? 'accuracy';
  const rows = results.filter((r) => r.accuracy !== null);
  const archs = [...new Set(rows.map((r) => r.arch))].sort();
  const out: ArchComparison[] = [];
  for (const arch of archs) {
    const usable = rows.filter(
      (r) =>
        r.arch === arch &&
        r.effectiveCompression !== null &&
        Number.isFinite(r.effectiveCompression) &&
        r.effectiveCompression > 0 &&
        r[metric] !== null,
    );
    if (usable.length === 0) continue;
    const cs = usable.map((r) => r.effectiveCompression!);
    const grid = options.grid ?? logGrid(Math.min(...cs), Math.max(...cs), options.points ?? 10);
    const bySeries = new Map<string, ResultRow[]>();
    for (const r of usable) {
      const key = `${r.pruner}\u0000${r.pruningType}`;
      bySeries.set(key, [...(bySeries.get(key) ?? []), r]);
    }
    const series: CompareSeries[] = [];
    for (const [key, seriesRows] of [...bySeries].sort(([a], [b]) => a.localeCompare(b))) {
      const [pruner, pruningType] = key.split('\u0000') as [string, PruningType];
      const bySeed = new Map<number, ResultRow[]>();
      for (const r of seriesRows) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r]);
      // One curve per seed, sorted on log-compression (equal compressions averaged).
      const curves = [...bySeed.values()].map((seedRows) => {
        const at = new Map<number, number[]>();
        for (const r of seedRows) {
          const x = Math.log(r.effectiveCompression!);
          at.set(x, [...(at.get(x) ?? []), r[metric]!]);
        }
        return [...at]
          .map(([x, ys]) => ({ x, y: ys.reduce((a, b) => a + b, 0) / ys.length }))
          .sort((a, b) => a.x - b.x);
      });
      const points = grid.map((compression) => {
        const values = curves
          .map((curve) => interpolateLog(curve, compression))
          .filter((v) => v !== undefined);
        return { compression, ...meanStd(values), n: values.length };
      });
      series.push({ pruner, pruningType, seeds: bySeed.size, points });
    }
    out.push({ arch, grid, series });
  }
  return { metric, archs: out };
}
