// The paper's claims checked against a sweep's own data (the report's claims section and
// `esweep sweep compare`): each claim states its test, shows the numbers it was decided on and gives
// a verdict. Only measured comparison cells count: a value interpolated across a wide gap is no
// evidence, so a claim that rests on such values says "not enough data".
import { formatCompression } from '../../common/format.ts';
import type { ComparePoint, CompareSeries, Comparison } from '../query/compare.ts';
import type { ResultRow } from '../query/index.ts';

export type Verdict = 'holds' | 'does not hold' | 'not enough data';

/** One line of a claim's evidence: what it is about, its numbers, and on how many seeds they rest. */
export interface ClaimRow {
  label: string;
  values: Record<string, number | string | null>;
  n: number;
}

export interface Claim {
  id: string;
  arch: string;
  statement: string;
  verdict: Verdict;
  /** Why the verdict, in one sentence. */
  reason: string;
  rows: ClaimRow[];
}

/** Direct pruning "disconnects" when effective compression is at least this multiple of direct. */
export const DISCONNECT_RATIO = 2;
/** "No gap": effective compression within this multiple of direct at every target. */
export const NO_GAP_RATIO = 1.1;
/** Accuracies closer than this (a fraction: 0.01 = 1 percentage point) count as equal. */
export const EQUAL_ACCURACY = 0.01;

const ALGORITHMS = ['snip', 'grasp', 'synflow'];
const isRandom = (pruner: string) => pruner.startsWith('random/');
const label = (s: Pick<CompareSeries, 'pruner' | 'pruningType'>) => `${s.pruner} (${s.pruningType})`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Percentage points, for reasons people read. */
const pp = (fraction: number) => `${(fraction * 100).toFixed(2)} pp`;
const pct = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
const times = (ratio: number) => `×${formatCompression(ratio)}`;

/** A comparison cell that is a measurement (reached by a seed, not bridged across a wide gap). */
const measured = (p: ComparePoint | undefined): p is ComparePoint & { mean: number } =>
  p !== undefined && p.mean !== null && p.n > 0 && !p.wideGap;

/**
 * Effective over direct compression of one pruner's direct-pruning trials, per target compression
 * (mean over the seeds; an infinite effective compression, nothing left connected, counts as infinite).
 */
function gapsByTarget(rows: ResultRow[], pruner: string): ClaimRow[] {
  const done = rows.filter(
    (r) =>
      r.pruner === pruner &&
      r.pruningType === 'direct' &&
      r.accuracy !== null &&
      r.directCompression !== null &&
      r.effectiveCompression !== null,
  );
  const targets = [...new Set(done.map((r) => r.targetCompression))].sort((a, b) => a - b);
  return targets.map((target) => {
    const at = done.filter((r) => r.targetCompression === target);
    const direct = mean(at.map((r) => r.directCompression!));
    const effective = mean(at.map((r) => r.effectiveCompression!));
    return {
      label: `target ×${target}`,
      values: { directCompression: direct, effectiveCompression: effective, ratio: effective / direct },
      n: at.length,
    };
  });
}

const ratioOf = (row: ClaimRow) => row.values.ratio as number;

function uniformGap(arch: string, rows: ResultRow[]): Claim {
  const gaps = gapsByTarget(rows, 'random/uniform');
  const statement = `Direct random/uniform pruning disconnects the network: at its highest target, effective compression is at least ${DISCONNECT_RATIO}× the direct compression.`;
  const base = { id: 'random-uniform-gap', arch, statement, rows: gaps };
  const top = gaps[gaps.length - 1];
  if (!top)
    return { ...base, verdict: 'not enough data', reason: 'no completed direct random/uniform trial' };
  const holds = ratioOf(top) >= DISCONNECT_RATIO;
  return {
    ...base,
    verdict: holds ? 'holds' : 'does not hold',
    reason: `at ${top.label} effective compression is ${times(ratioOf(top))} the direct (n=${top.n})`,
  };
}

function synflowGap(arch: string, rows: ResultRow[]): Claim {
  const gaps = gapsByTarget(rows, 'synflow');
  const statement = `SynFlow shows no gap: with direct pruning its effective compression stays within ${NO_GAP_RATIO}× the direct compression at every target.`;
  const base = { id: 'synflow-gap', arch, statement, rows: gaps };
  if (gaps.length === 0)
    return { ...base, verdict: 'not enough data', reason: 'no completed direct synflow trial' };
  const worst = gaps.reduce((a, b) => (ratioOf(b) > ratioOf(a) ? b : a));
  return {
    ...base,
    verdict: ratioOf(worst) <= NO_GAP_RATIO ? 'holds' : 'does not hold',
    reason: `the largest ratio is ${times(ratioOf(worst))} at ${worst.label}`,
  };
}

/** The best measured series of `candidates` at grid position `k` (highest mean). */
function bestAt(
  candidates: CompareSeries[],
  k: number,
): { series: CompareSeries; point: ComparePoint & { mean: number } } | undefined {
  let best: { series: CompareSeries; point: ComparePoint & { mean: number } } | undefined;
  for (const series of candidates) {
    const point = series.points[k];
    if (measured(point) && (!best || point.mean > best.point.mean)) best = { series, point };
  }
  return best;
}

function bestRandomQuota(arch: string, series: CompareSeries[], grid: number[]): Claim {
  const random = series.filter((s) => isRandom(s.pruner));
  const statement =
    'IGQ is the best random quota at matched effective compression (best, or within 1 pp of the best).';
  const rows: ClaimRow[] = [];
  let failures = 0;
  grid.forEach((compression, k) => {
    const measuredHere = random.filter((s) => measured(s.points[k]));
    const best = bestAt(measuredHere, k);
    const igq = bestAt(
      measuredHere.filter((s) => s.pruner === 'random/igq'),
      k,
    );
    if (!best || measuredHere.length < 2 || !igq) return;
    if (best.point.mean - igq.point.mean > EQUAL_ACCURACY) failures++;
    rows.push({
      label: `effective ×${formatCompression(compression)}`,
      values: {
        best: label(best.series),
        bestAccuracy: best.point.mean,
        igqAccuracy: igq.point.mean,
        quotas: measuredHere.length,
      },
      n: best.point.n,
    });
  });
  const base = { id: 'best-random-quota', arch, statement, rows };
  if (rows.length === 0)
    return {
      ...base,
      verdict: 'not enough data',
      reason: 'no matched compression with random/igq and another random quota measured',
    };
  return {
    ...base,
    verdict: failures === 0 ? 'holds' : 'does not hold',
    reason:
      failures === 0
        ? `IGQ is best or within ${pp(EQUAL_ACCURACY)} at all ${rows.length} matched compressions`
        : `another quota beats IGQ by more than ${pp(EQUAL_ACCURACY)} at ${failures} of ${rows.length} matched compressions`,
  };
}

function randomVsAlgorithms(arch: string, series: CompareSeries[], grid: number[]): Claim {
  const random = series.filter((s) => isRandom(s.pruner));
  const statement =
    'Random pruning with the best quota is on par with SNIP, GraSP and SynFlow at matched effective compression (at most 1 pp below each).';
  const rows: ClaimRow[] = [];
  let failures = 0;
  grid.forEach((compression, k) => {
    const best = bestAt(random, k);
    if (!best) return;
    const values: ClaimRow['values'] = { quota: label(best.series), randomAccuracy: best.point.mean };
    let compared = 0;
    for (const algorithm of ALGORITHMS) {
      const other = bestAt(
        series.filter((s) => s.pruner === algorithm),
        k,
      );
      if (!other) continue;
      compared++;
      values[`${algorithm}Accuracy`] = other.point.mean;
      if (other.point.mean - best.point.mean > EQUAL_ACCURACY) failures++;
    }
    if (compared > 0)
      rows.push({ label: `effective ×${formatCompression(compression)}`, values, n: best.point.n });
  });
  const base = { id: 'random-vs-algorithms', arch, statement, rows };
  if (rows.length === 0)
    return {
      ...base,
      verdict: 'not enough data',
      reason: 'no matched compression with a random pruner and SNIP, GraSP or SynFlow measured',
    };
  return {
    ...base,
    verdict: failures === 0 ? 'holds' : 'does not hold',
    reason:
      failures === 0
        ? `the best random quota is within ${pp(EQUAL_ACCURACY)} or better at all ${rows.length} matched compressions`
        : `an algorithm beats the best random quota by more than ${pp(EQUAL_ACCURACY)} in ${failures} comparisons`,
  };
}

/**
 * For one pruner pruned both ways: at equal target compression, what effective pruning changes (the
 * gap direct pruning leaves, and the accuracy), and whether the two agree at matched effective
 * compression, which is what the paper says they should.
 */
function effectiveVsDirect(
  arch: string,
  pruner: string,
  rows: ResultRow[],
  series: CompareSeries[],
  grid: number[],
): Claim {
  const statement = `${pruner}: at matched effective compression, effective and direct pruning reach the same accuracy (within 1 pp); what effective pruning changes is where a target compression lands.`;
  const direct = series.find((s) => s.pruner === pruner && s.pruningType === 'direct');
  const effective = series.find((s) => s.pruner === pruner && s.pruningType === 'effective');
  const claimRows: ClaimRow[] = [];
  let worst = 0;
  grid.forEach((compression, k) => {
    const d = direct?.points[k];
    const e = effective?.points[k];
    if (!measured(d) || !measured(e)) return;
    const difference = e.mean - d.mean;
    if (Math.abs(difference) > Math.abs(worst)) worst = difference;
    const atTarget = (type: 'direct' | 'effective') =>
      rows.filter(
        (r) =>
          r.pruner === pruner &&
          r.pruningType === type &&
          r.targetCompression === compression &&
          r.accuracy !== null,
      );
    const dt = atTarget('direct');
    const et = atTarget('effective');
    claimRows.push({
      label: `effective ×${formatCompression(compression)}`,
      values: {
        directAccuracy: d.mean,
        effectiveAccuracy: e.mean,
        difference,
        // The same target pruned both ways: direct lands at a higher effective compression.
        directAccuracyAtTarget: dt.length ? mean(dt.map((r) => r.accuracy!)) : null,
        effectiveAccuracyAtTarget: et.length ? mean(et.map((r) => r.accuracy!)) : null,
        directEffectiveCompression: dt.length
          ? mean(dt.map((r) => r.effectiveCompression ?? Number.NaN))
          : null,
      },
      n: Math.min(d.n, e.n),
    });
  });
  const base = { id: `effective-vs-direct:${pruner}`, arch, statement, rows: claimRows };
  if (claimRows.length === 0)
    return { ...base, verdict: 'not enough data', reason: 'no matched compression with both types measured' };
  const holds = Math.abs(worst) <= EQUAL_ACCURACY;
  return {
    ...base,
    verdict: holds ? 'holds' : 'does not hold',
    reason: `the largest difference (effective − direct) is ${pp(worst)} over ${claimRows.length} matched compressions`,
  };
}

/** Every claim for every architecture of the sweep, from its results and their comparison. */
export function sweepClaims(results: ResultRow[], comparison: Comparison): Claim[] {
  const archs = [...new Set(results.map((r) => r.arch))].sort();
  return archs.flatMap((arch) => {
    const rows = results.filter((r) => r.arch === arch);
    const entry = comparison.archs.find((a) => a.arch === arch);
    const series = entry?.series ?? [];
    const grid = entry?.grid ?? [];
    const bothTypes = [...new Set(series.map((s) => s.pruner))]
      .filter((p) => p !== 'dense')
      .filter((p) => series.some((s) => s.pruner === p && s.pruningType === 'direct'))
      .filter((p) => series.some((s) => s.pruner === p && s.pruningType === 'effective'))
      .sort();
    return [
      uniformGap(arch, rows),
      synflowGap(arch, rows),
      bestRandomQuota(arch, series, grid),
      randomVsAlgorithms(arch, series, grid),
      ...bothTypes.map((pruner) => effectiveVsDirect(arch, pruner, rows, series, grid)),
    ];
  });
}

/** A claim's number as text, by its key: compressions and ratios as ×, accuracies as %, differences in pp. */
export function formatClaimValue(key: string, value: number | string | null): string {
  if (value === null) return '–';
  if (typeof value === 'string') return value;
  if (/Compression$|^ratio$/.test(key)) return times(value);
  if (/Accuracy/.test(key)) return pct(value);
  if (key === 'difference') return pp(value);
  return String(value);
}

/** The claims as plain text (`esweep sweep compare`). */
export function claimsText(claims: Claim[]): string {
  return claims
    .map((c) => {
      const lines = c.rows.map(
        (r) =>
          `    ${r.label}: ${Object.entries(r.values)
            .map(([k, v]) => `${k} ${formatClaimValue(k, v)}`)
            .join(', ')} (n=${r.n})`,
      );
      return [`[${c.verdict}] ${c.arch}: ${c.statement}`, `    ${c.reason}`, ...lines].join('\n');
    })
    .join('\n');
}
