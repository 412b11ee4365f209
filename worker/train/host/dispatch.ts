/**
 * Which masked dense layers the host step computes sparsely: those whose density (kept / weights)
 * is below a threshold measured on the host backends (docs/sparse-training.md has the figures).
 * Above it the backend's dense matMul, which does every multiply-add but with SIMD and blocking,
 * is the cheaper of the two.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Model } from '../../model/model.ts';
import type { SparseKernels } from './layers.ts';
import { keptRows } from './sparse-dense.ts';

export const SPARSE_BELOW_DENSITY = 0.02;

/**
 * Per kernel of `model`, its kept positions where it is a dense (fully connected) kernel whose
 * mask keeps less than `threshold` of its weights; null elsewhere (no mask, a conv kernel, or too
 * dense). `masks` are the trainer's: per kernel in the model's layout, null when nothing is pruned.
 */
export function sparseKernels(
  model: Model,
  masks: readonly (tf.Tensor | null)[],
  threshold = SPARSE_BELOW_DENSITY,
): SparseKernels {
  return model.kernels.map((kernel, k) => {
    const mask = masks[k];
    if (!mask || kernel.rank !== 2) return null;
    const values = mask.dataSync();
    let kept = 0;
    for (let j = 0; j < values.length; j++) if (values[j] !== 0) kept++;
    if (kept >= threshold * values.length) return null;
    const [inputs, outputs] = kernel.shape as [number, number];
    return keptRows(values, inputs, outputs);
  });
}
