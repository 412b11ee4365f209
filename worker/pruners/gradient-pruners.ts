import type { Architecture } from '../arch/graph.ts';
import type { PruneContext, Pruner } from './pruner.ts';
import { topKMasks } from './ranking.ts';
import { globalSelection } from './selection.ts';

type Weights = readonly Float32Array[];

const multiply = (a: Weights, b: readonly (Float32Array | Uint8Array)[]) =>
  a.map((x, k) => x.map((v, j) => v * b[k][j]));
const absProduct = (a: Weights, b: Weights) => a.map((x, k) => x.map((v, j) => Math.abs(v * b[k][j])));

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
  const hg = await ctx.network.hessianGradientProduct(w, ctx.scoreBatches);
  return w.map((x, k) => x.map((v, j) => v * hg[k][j]));
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
      let masks: Uint8Array[] = arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
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
