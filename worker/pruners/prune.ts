import type { Architecture } from '../arch/graph.ts';
import { InputError } from '../errors.ts';
import { effectiveConnectivity, type SparsityMethod } from '../sparsity/analysis.ts';
import type { MaskSet } from '../sparsity/masks.ts';
import type { PruneContext, Pruner, Requirement } from './pruner.ts';

const REQUIREMENT_NAMES: Record<Requirement, string> = {
  data: 'training data',
  trainedWeights: "the dense run's trained weights",
};

import { searchCount } from './search.ts';
import type { Selection } from './selection.ts';

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

/** How many single-step additions the final refinement may try (each costs one exact analysis). */
const REFINE_STEPS = 400;

/**
 * The paper's effective pruning: keep the scores fixed and search the number of kept weights
 * until the *effective* count reaches the target. The channel-graph bound (cheap, ≥ exact) brackets
 * the answer first; the exact count only finishes it, so a search costs a few exact analyses.
 * At extreme sparsity one more weight can reconnect many (a jump over the target); then weights are
 * added greedily in score order, skipping any that would overshoot.
 */
export function searchEffective(
  arch: Architecture,
  selection: Selection,
  targetEffective: number,
): EffectiveSearch {
  const total = arch.totalParams;
  const tolerance = Math.max(0.5, targetEffective * 3e-3);
  let graphEvaluations = 0;
  let exactEvaluations = 0;
  const graph = (kept: number) => {
    graphEvaluations++;
    return effectiveCount(arch, selection.masksFor(kept), 'graph');
  };
  const exactOf = (masks: MaskSet) => {
    exactEvaluations++;
    return effectiveCount(arch, masks, 'exact');
  };
  const exact = (kept: number) => exactOf(selection.masksFor(kept));
  const done = (kept: number, effective: number) => ({
    masks: selection.masksFor(kept),
    effective,
    graphEvaluations,
    exactEvaluations,
  });
  if (targetEffective === 0) return done(0, 0);
  const graphTotal = graph(total);
  if (graphTotal < targetEffective) {
    throw new InputError(
      `even the unpruned network has only ${graphTotal} effective weights (< ${targetEffective})`,
    );
  }
  // The bound over-counts, so where it reaches the target the exact count is at most the target.
  const bounded = searchCount(
    graph,
    targetEffective,
    { lo: 0, fLo: 0, hi: total, fHi: graphTotal },
    tolerance,
  );
  let hi = bounded.n;
  let fHi = exact(hi);
  if (Math.abs(fHi - targetEffective) <= tolerance) return done(hi, fHi);
  let lo = bounded.lo;
  let fLo = fHi > targetEffective ? exact(lo) : fHi;
  // Below the target: step up in proportion to the shortfall until the exact count brackets it.
  while (fHi < targetEffective && hi < total) {
    lo = hi;
    fLo = fHi;
    hi = Math.min(total, Math.ceil(hi * Math.max(1.001, (targetEffective / Math.max(1, fHi)) * 1.002)));
    fHi = exact(hi);
  }
  if (fHi < targetEffective) return done(hi, fHi);
  const found = searchCount(exact, targetEffective, { lo, fLo, hi, fHi }, tolerance);
  if (found.value - targetEffective <= tolerance) return done(found.n, found.value);

  const masks = selection.masksFor(found.lo).map((mask) => mask.slice());
  let effective = found.fLo;
  for (let kept = found.lo; kept < total && kept < found.lo + REFINE_STEPS; kept++) {
    const added = selection.added(kept).filter(([layer, index]) => !masks[layer][index]);
    for (const [layer, index] of added) masks[layer][index] = 1;
    const value = exactOf(masks);
    if (value <= targetEffective + tolerance) effective = value;
    else for (const [layer, index] of added) masks[layer][index] = 0;
    if (targetEffective - effective <= tolerance) break;
  }
  // Keep whichever of the jump's upper side and the refined masks lands closer.
  if (found.value - targetEffective < targetEffective - effective) return done(found.n, found.value);
  return { masks, effective, graphEvaluations, exactEvaluations };
}

export interface PruneTarget {
  /** Global sparsity in [0, 1]: direct (removed) or effective (inactive), per `type`. */
  sparsity: number;
  type: PruningType;
}

export function checkTarget(arch: Architecture, sparsity: number): number {
  if (!Number.isFinite(sparsity) || sparsity < 0 || sparsity > 1) {
    throw new InputError(`sparsity must lie in [0, 1], got ${sparsity}`);
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
  const kept = checkTarget(ctx.arch, target.sparsity);
  const selection = await pruner.select(ctx, target.sparsity);
  if (target.type === 'direct') return selection.masksFor(kept);
  return searchEffective(ctx.arch, selection, kept).masks;
}
