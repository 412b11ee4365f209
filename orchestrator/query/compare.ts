// Pruners compared at matched effective compression: pure logic over the result rows that
// sweepResults reads (no database here).
import { logSpaced } from '../../common/grid.ts';
import type { PruningType, ResultRow } from '../store/store.ts';

export type CompareMetric = 'accuracy' | 'bestAccuracy' | 'loss';

export interface CompareOptions {
  metric?: CompareMetric;
  /** Effective compressions to compare at; default `points` log-spaced over the observed range. */
  grid?: number[];
  points?: number;
  /**
   * The widest gap between two measured compressions (as a ratio, default 2) that a value may be
   * interpolated across and still count as measured; wider ones are flagged `wideGap`.
   */
  maxGap?: number;
}

export const DEFAULT_MAX_GAP = 2;
/**
 * A measurement within this ratio of a grid compression counts as taken there: effective pruning
 * lands on its target only up to rounding of the weight counts.
 */
export const MATCH_TOLERANCE = 1.05;

export interface ComparePoint {
  compression: number;
  /** Mean over the seeds whose runs bracket this compression (null when none does). */
  mean: number | null;
  /** Sample standard deviation over those seeds (0 for one seed). */
  std: number | null;
  /** Seeds that reach this compression. */
  n: number;
  /**
   * The widest ratio between the two measured compressions a seed's value was interpolated
   * between (1 where every seed was measured at this compression; null when n = 0).
   */
  gap: number | null;
  /** Interpolated across a gap wider than the comparison's `maxGap`: an estimate, not a measurement. */
  wideGap: boolean;
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
  maxGap: number;
  archs: ArchComparison[];
}

/** Log-spaced values from `lo` to `hi` inclusive. */
export function logGrid(lo: number, hi: number, points: number): number[] {
  return points <= 1 || hi <= lo ? [lo] : logSpaced(lo, hi, points);
}

type Curve = { x: number; y: number }[];

/**
 * A curve of (log-compression, value) points read at compression `c`: linear in log-compression
 * between the two measurements around it, with the ratio of their compressions (`gap`, 1 when a
 * measurement lies within {@link MATCH_TOLERANCE} of `c`); undefined outside the curve's range (no
 * extrapolation).
 */
export function readCurve(curve: Curve, c: number): { y: number; gap: number } | undefined {
  const x = Math.log(c);
  if (curve.length === 0) return undefined;
  const eps = 1e-9;
  if (x < curve[0]!.x - eps || x > curve[curve.length - 1]!.x + eps) return undefined;
  const near = curve.some((p) => Math.abs(p.x - x) <= Math.log(MATCH_TOLERANCE) + eps);
  for (let i = 0; i < curve.length; i++) {
    const p = curve[i]!;
    if (Math.abs(p.x - x) <= eps) return { y: p.y, gap: 1 };
    const q = curve[i + 1];
    if (q && x > p.x && x < q.x)
      return { y: p.y + ((q.y - p.y) * (x - p.x)) / (q.x - p.x), gap: near ? 1 : Math.exp(q.x - p.x) };
  }
  return undefined;
}

/** {@link readCurve}'s value alone. */
export function interpolateLog(curve: Curve, c: number): number | undefined {
  return readCurve(curve, c)?.y;
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
 * A cell that some seed bridges across more than `maxGap` is flagged `wideGap` (an estimate; its
 * value is still given, so that views can show it marked). Trials not completed, and those with infinite effective compression (a disconnected network), do
 * not enter the curves.
 */
export function compareResults(results: ResultRow[], options: CompareOptions = {}): Comparison {
  const metric = options.metric ?? 'accuracy';
  const maxGap = options.maxGap ?? DEFAULT_MAX_GAP;
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
        const reads = curves.map((curve) => readCurve(curve, compression)).filter((r) => r !== undefined);
        const gap = reads.length === 0 ? null : Math.max(...reads.map((r) => r.gap));
        return {
          compression,
          ...meanStd(reads.map((r) => r.y)),
          n: reads.length,
          gap,
          wideGap: gap !== null && gap > maxGap,
        };
      });
      series.push({ pruner, pruningType, seeds: bySeed.size, points });
    }
    out.push({ arch, grid, series });
  }
  return { metric, maxGap, archs: out };
}
