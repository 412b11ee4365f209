import type { Architecture } from '../arch/graph.ts';
import { denseMasks } from '../sparsity/masks.ts';
import type { PruneContext, Pruner } from './pruner.ts';
import { topKMasks } from './ranking.ts';
import { globalSelection } from './selection.ts';

type Weights = readonly Float32Array[];

/** a ⊙ b per layer, or |a ⊙ b|; explicit loops, as these run over every weight in every round. */
function product(a: Weights, b: readonly ArrayLike<number>[], abs: boolean): Float32Array[] {
  return a.map((x, k) => {
    const out = new Float32Array(x.length);
    const y = b[k];
    if (abs) for (let j = 0; j < x.length; j++) out[j] = Math.abs(x[j] * y[j]);
    else for (let j = 0; j < x.length; j++) out[j] = x[j] * y[j];
    return out;
  });
}
const multiply = (a: Weights, b: readonly ArrayLike<number>[]) => product(a, b, false);
const absProduct = (a: Weights, b: Weights) => product(a, b, true);

/** One score per weight for the (masked) weights `w`. */
export type Scorer = (ctx: PruneContext, w: Weights) => Promise<Float32Array[]>;

/** SNIP (Lee et al., 2019): |g ⊙ w|, the loss's sensitivity to removing each weight. */
export const snipScores: Scorer = async (ctx, w) =>
  absProduct(await ctx.network.lossGradient(w, ctx.scoreBatches), w);

/** SynFlow (Tanaka et al., 2020): |w ⊙ ∂R/∂w|, the synaptic flow through each weight; data-free. */
export const synflowScores: Scorer = async (ctx, w) => absProduct(await ctx.network.pathGradient(w), w);

/**
 * GraSP (Wang et al., 2020) removes the largest −w ⊙ Hg (weights whose removal least reduces the
 * gradient flow), so it keeps the largest w ⊙ Hg.
 */
export const graspScores: Scorer = async (ctx, w) => {
  return multiply(w, await ctx.network.hessianGradientProduct(w, ctx.scoreBatches));
};

export function oneShot(name: string, requires: Pruner['requires'], score: Scorer): Pruner {
  return {
    name,
    requires,
    async select(ctx) {
      return globalSelection(ctx.arch, await score(ctx, ctx.initialWeights));
    },
  };
}

/**
 * Iterative pruning with an exponential schedule: round r keeps density d^(r/R) of the weights by
 * scores recomputed on the network masked by round r−1. The last round's scores rank the weights,
 * so the selection at the target count is exactly the iterative mask.
 */
export function iterative(name: string, requires: Pruner['requires'], rounds: number, score: Scorer): Pruner {
  return {
    name,
    requires,
    async select(ctx, sparsity) {
      const arch: Architecture = ctx.arch;
      let masks: Uint8Array[] = denseMasks(arch);
      let scores: Float32Array[] = [];
      for (let round = 1; round <= rounds; round++) {
        scores = await score(ctx, multiply(ctx.initialWeights, masks));
        const density = (1 - sparsity) ** (round / rounds);
        masks = topKMasks(scores, Math.round(density * arch.totalParams));
      }
      return globalSelection(arch, scores);
    },
  };
}

export const snip = oneShot('snip', ['data'], snipScores);
export const snipIterative = iterative('snip/iterative', ['data'], 300, snipScores);
export const synflow = iterative('synflow', [], 100, synflowScores);
export const grasp = oneShot('grasp', ['data'], graspScores);
