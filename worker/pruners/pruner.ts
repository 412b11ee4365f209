import type { Architecture } from '../arch/graph.ts';
import type { NetworkGradients } from '../model/gradients.ts';
import type { Selection } from './selection.ts';

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
