import type { Architecture } from '../arch/graph.ts';
import type { Selection } from './selection.ts';

/** Everything a pruner may read. Data and trained weights exist only when its trial provides them. */
export interface PruneContext {
  readonly arch: Architecture;
  readonly seed: number;
  /** Weights at initialization (torch layout, per prunable layer), the network to be trained. */
  initialWeights(): Promise<Float32Array[]>;
  /** Scores that need data and gradients go through this (SNIP, GraSP). */
  readonly gradients?: GradientSource;
  /** Final weights of the trained dense network of the same architecture and seed (magnitude, LAMP). */
  readonly trainedWeights?: Float32Array[];
}

/**
 * The model-side computations data-driven pruners need, implemented by the tfjs model (worker/model).
 * Masked weights are given in torch layout; results come back in torch layout.
 */
export interface GradientSource {
  /** ∂L/∂w averaged over `batches` training batches (batch norm in training mode). */
  lossGradient(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
  /** H·g, the Hessian of the loss times its gradient, averaged over `batches` batches (GraSP). */
  hessianGradientProduct(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
}

export type Requirement = 'gradients' | 'trainedWeights';

/**
 * A pruning algorithm: it computes scores (possibly over several rounds, towards the target) and
 * returns the shared top-k selection over them. Higher score = kept first.
 */
export interface Pruner {
  readonly name: string;
  readonly requires: readonly Requirement[];
  /** `sparsity` is the direct target; iterative pruners schedule their rounds towards it. */
  select(ctx: PruneContext, sparsity: number): Promise<Selection>;
}
