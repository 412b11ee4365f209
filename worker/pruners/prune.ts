import { InputError } from '../../common/errors.ts';
import type { Architecture } from '../arch/graph.ts';
import { effectiveConnectivity, type SparsityMethod } from '../sparsity/analysis.ts';
import type { MaskSet } from '../sparsity/masks.ts';
import type { PruneContext, Pruner, Requirement } from './pruner.ts';
import { searchCount } from './search.ts';
import type { Selection } from './selection.ts';

const REQUIREMENT_NAMES: Record<Requirement, string> = {
  data: 'training data',
  trainedWeights: "the dense run's trained weights",
};

export const PRUNING_TYPES = ['direct', 'effective'] as const;
export type PruningType = (typeof PRUNING_TYPES)[number];

function effectiveCount(arch: Architecture, masks: MaskSet, method: SparsityMethod): number {
  return effectiveConnectivity(arch, masks, method).reduce((sum, layer) => sum + layer.effective, 0);
}

export interface EffectiveSearch {
  masks: Uint8Array[];
  effective: number;
  graphEvaluations: number;
  exactEvaluations: number;
}

/** How many times a search may pin the weight behind a jump and search again below it. */
const MAX_PINS = 12;

interface Bracketed {
  kept: number;
  effective: number;
  /** The largest count known to be below the target, and its effective count. */
  lo: number;
  fLo: number;
}

/**
 * Over one nested family of masks (`count(kept, method)` non-decreasing in `kept`), the count whose
 * exact effective count is closest to reaching `target`. The channel-graph bound (cheap, ≥ exact)
 * brackets the answer first; the exact count only finishes it.
 */
function bracketSearch(
  count: (kept: number, method: SparsityMethod) => number,
  target: number,
  limit: number,
  /** `count(limit, 'graph')`, which the caller has already. */
  graphAtLimit: number,
  tolerance: number,
  /** The answer is expected just below `limit` (after a pin): bracket it stepping down from there. */
  nearLimit: boolean,
): Bracketed {
  const graph = (kept: number) => count(kept, 'graph');
  const exact = (kept: number) => count(kept, 'exact');
  let start = { lo: 0, fLo: 0, hi: limit, fHi: graphAtLimit };
  for (let step = Math.ceil(limit / 1000); nearLimit && start.hi - step > 0; step *= 4) {
    const below = start.hi - step;
    const value = graph(below);
    if (value < target) {
      start = { ...start, lo: below, fLo: value };
      break;
    }
    start = { ...start, hi: below, fHi: value };
  }
  // The bound over-counts, so below where it reaches the target the exact count is below it too.
  const bounded = searchCount(graph, target, start, tolerance);
  let hi = bounded.n;
  let fHi = exact(hi);
  if (Math.abs(fHi - target) <= tolerance)
    return { kept: hi, effective: fHi, lo: bounded.lo, fLo: bounded.fLo };
  let lo = bounded.lo;
  let fLo = fHi > target ? exact(lo) : fHi;
  // Below the target: step up in proportion to the shortfall until the exact count brackets it.
  while (fHi < target && hi < limit) {
    lo = hi;
    fLo = fHi;
    hi = Math.min(limit, Math.ceil(hi * Math.max(1.001, (target / Math.max(1, fHi)) * 1.002)));
    fHi = exact(hi);
  }
  if (fHi < target) return { kept: hi, effective: fHi, lo: hi, fLo: fHi };
  const found = searchCount(exact, target, { lo, fLo, hi, fHi }, tolerance);
  return { kept: found.n, effective: found.value, lo: found.lo, fLo: found.fLo };
}

/**
 * The paper's effective pruning: keep the scores fixed and search the number of kept weights until
 * the *effective* count reaches the target, at the cost of a few exact analyses.
 *
 * Where one more weight reconnects a whole collapsed part of the network, the effective count jumps
 * over the target (LAMP or SNIP at extreme sparsity). Then the weight behind the jump is pinned
 * (kept whatever the count) and the search runs again over fewer of the other weights, below the
 * jump, where the count can fall smoothly back to the target.
 */
export function searchEffective(
  arch: Architecture,
  selection: Selection,
  targetEffective: number,
): EffectiveSearch {
  const total = arch.totalParams;
  const tolerance = Math.max(0.5, targetEffective * 3e-3);
  const evaluations = { graph: 0, exact: 0 };
  const pinned: [number, number][] = [];
  const masksAt = (kept: number) => {
    const masks = selection.masksFor(kept);
    for (const [layer, index] of pinned) masks[layer][index] = 1;
    return masks;
  };
  const count = (kept: number, method: SparsityMethod) => {
    evaluations[method]++;
    return effectiveCount(arch, masksAt(kept), method);
  };
  const result = (kept: number, effective: number): EffectiveSearch => ({
    masks: masksAt(kept),
    effective,
    graphEvaluations: evaluations.graph,
    exactEvaluations: evaluations.exact,
  });
  if (targetEffective === 0) return result(0, 0);
  let limit = total;
  let graphAtLimit = count(total, 'graph');
  if (graphAtLimit < targetEffective) {
    throw new InputError(`even the unpruned network has fewer than ${targetEffective} effective weights`);
  }

  let best = { kept: total, effective: Number.POSITIVE_INFINITY, pins: 0 };
  for (let pins = 0; ; pins++) {
    const found = bracketSearch(count, targetEffective, limit, graphAtLimit, tolerance, pinned.length > 0);
    if (Math.abs(found.effective - targetEffective) < Math.abs(best.effective - targetEffective)) {
      best = { kept: found.kept, effective: found.effective, pins: pinned.length };
    }
    const reached = Math.abs(found.effective - targetEffective) <= tolerance;
    if (reached || found.kept !== found.lo + 1 || pins === MAX_PINS) break;
    pinned.push(...selection.added(found.lo));
    limit = found.lo;
    graphAtLimit = count(limit, 'graph');
  }
  pinned.length = best.pins;
  return result(best.kept, best.effective);
}

export interface PruneTarget {
  /** Global sparsity in [0, 1]: direct (removed) or effective (inactive), per `type`. */
  sparsity: number;
  type: PruningType;
}

/**
 * The kept count for `sparsity`, failing on a target the architecture or the pruner cannot give;
 * cheap, so a trial checks it before loading any data.
 */
export function checkTarget(arch: Architecture, pruner: Pruner, sparsity: number): number {
  if (!Number.isFinite(sparsity) || sparsity < 0 || sparsity > 1) {
    throw new InputError(`sparsity must lie in [0, 1], got ${sparsity}`);
  }
  if (pruner.keepsEveryWeight && sparsity > 0) {
    throw new InputError(
      `the ${pruner.name} pruner keeps every weight; its sparsity must be 0, not ${sparsity}`,
    );
  }
  const kept = Math.round((1 - sparsity) * arch.totalParams);
  if (kept < 1 && sparsity < 1) {
    const compression = Number((1 / (1 - sparsity)).toPrecision(6));
    throw new InputError(
      `compression ${compression} exceeds ${arch.name}'s ${arch.totalParams} prunable weights`,
    );
  }
  return kept;
}

/** Masks for the target; for `effective`, the kept count is searched so the effective count matches. */
export async function prune(ctx: PruneContext, pruner: Pruner, target: PruneTarget): Promise<Uint8Array[]> {
  const available: Record<Requirement, boolean> = {
    data: ctx.network.hasData,
    trainedWeights: !!ctx.trainedWeights,
  };
  const missing = pruner.requires.filter((need) => !available[need]);
  if (missing.length > 0) {
    throw new InputError(
      `pruner ${pruner.name} needs ${missing.map((need) => REQUIREMENT_NAMES[need]).join(' and ')}`,
    );
  }
  const kept = checkTarget(ctx.arch, pruner, target.sparsity);
  const selection = await pruner.select(ctx, target.sparsity);
  if (target.type === 'direct') return selection.masksFor(kept);
  return searchEffective(ctx.arch, selection, kept).masks;
}
