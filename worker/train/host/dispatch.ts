/**
 * Which masked dense layers the host step computes sparsely: a cost model per layer. The sparse
 * kernels visit, per batch row, the kept weights of the inputs that do not hold the skipped value
 * (0 after a ReLU, the background of normalized images); the dense kernels do every multiply-add,
 * each about SPARSE_MAC_COST times cheaper (the backend's SIMD matMul). A layer runs sparse where
 * that is expected to cost less. docs/sparse-training.md has the measurements behind the constants.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Model } from '../../model/model.ts';
import { readsRelu, type SparseKernels } from './layers.ts';
import { keptRows } from './sparse-dense.ts';

/** One sparse multiply-add costs about this many dense ones. */
export const SPARSE_MAC_COST = 18;
/** The share of a ReLU's outputs that are not 0: about half, after batch norm. */
export const RELU_VISITED = 0.5;

/** What a layer's input is, as the cost model sees it. */
export interface LayerInput {
  /** The data: no input gradient is computed. */
  first: boolean;
  /** A ReLU's output: the input gradient is needed only where it is positive. */
  relu: boolean;
  /** The share of input values the sparse kernels visit (not the skipped value). */
  visited: number;
}

/** Whether the sparse kernels are expected to cost less than the dense ones for a layer keeping `density`. */
export function sparseIsCheaper(density: number, input: LayerInput): boolean {
  // Forward and weight gradient visit the inputs that do not hold the skipped value; the input
  // gradient (below the first layer) those too where a ReLU gates it, every input otherwise.
  const { first, relu, visited } = input;
  const sparse = density * SPARSE_MAC_COST * (2 * visited + (first ? 0 : relu ? visited : 1));
  return sparse < (first ? 2 : 3);
}

/** Decides, per masked dense layer, whether it runs on the sparse kernels. */
export type SparseChoice = (density: number, input: LayerInput) => boolean;

/** The cost model, for data of which the sparse kernels visit `dataVisited` (see `visitedShare`). */
export function costModel(dataVisited: number): SparseChoice {
  return (density, input) =>
    sparseIsCheaper(density, { ...input, visited: input.first ? dataVisited : input.visited });
}

/**
 * Per kernel of `model`, its kept positions where it is a dense (fully connected) kernel that
 * `choose` puts on the sparse kernels; null elsewhere (no mask, a conv kernel, or dense kernels).
 * `masks` are the trainer's: per kernel in the model's layout, null when nothing is pruned.
 */
export function sparseKernels(
  model: Model,
  masks: readonly (tf.Tensor | null)[],
  choose: SparseChoice,
): SparseKernels {
  return model.kernels.map((kernel, k) => {
    const mask = masks[k];
    if (!mask || kernel.rank !== 2) return null;
    const values = mask.dataSync();
    let kept = 0;
    for (let j = 0; j < values.length; j++) if (values[j] !== 0) kept++;
    const relu = readsRelu(model.arch, model.arch.layers[k].node);
    const input = { first: k === 0, relu, visited: relu ? RELU_VISITED : 1 };
    if (!choose(kept / values.length, input)) return null;
    const [inputs, outputs] = kernel.shape as [number, number];
    return keptRows(values, inputs, outputs);
  });
}
