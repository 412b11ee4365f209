import type { Architecture } from '../arch/graph.ts';
import type { Selection } from './selection.ts';

/**
 * The network computations pruners need, implemented on the tfjs model (worker/model). Weights go
 * in and gradients come out in torch layout, one array per prunable layer.
 */
export interface NetworkGradients {
  /**
   * ∂R/∂w for R = Σ outputs of the linearised network (|w|, no batch norm, activations or biases)
   * on an all-ones input, up to one common positive factor (it is normalised to stay finite).
   */
  pathGradient(weights: readonly Float32Array[]): Promise<Float32Array[]>;
  /** Whether training data is at hand for the two below. */
  readonly hasData: boolean;
  /** ∂L/∂w averaged over `batches` training batches (batch norm in training mode). */
  lossGradient(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
  /** H·g: the loss Hessian times the loss gradient, over `batches` batches (GraSP). */
  hessianGradientProduct(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
}

/** Everything a pruner may read. */
export interface PruneContext {
  readonly arch: Architecture;
  readonly seed: number;
  /** Weights at initialization (torch layout): the network that will be trained. */
  readonly initialWeights: readonly Float32Array[];
  readonly network: NetworkGradients;
  /** How many training batches data-driven scores average over. */
  readonly scoreBatches: number;
  /** Final weights of the trained dense network of the same architecture and seed (magnitude, LAMP). */
  readonly trainedWeights?: readonly Float32Array[];
}

export type Requirement = 'data' | 'trainedWeights';

/**
 * A pruning algorithm: it computes scores (possibly over several rounds, towards the target) and
 * returns the shared top-k selection over them. Higher score = kept first.
 */
export interface Pruner {
  readonly name: string;
  readonly requires: readonly Requirement[];
  /** The unpruned network (the dense baseline): its only sparsity is 0, so it needs no target. */
  readonly keepsEveryWeight?: boolean;
  /** `sparsity` is the direct target; iterative pruners schedule their rounds towards it. */
  select(ctx: PruneContext, sparsity: number): Promise<Selection>;
}
