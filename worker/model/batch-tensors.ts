import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../arch/graph.ts';
import type { Batch } from '../data/index.ts';

/** A batch as a network's input tensors: images NHWC (`input` is `[h, w, c]`), labels int32. */
export function batchTensors(input: Architecture['input'], batch: Batch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.tensor4d(batch.images, [batch.size, ...input]),
    y: tf.tensor1d(batch.labels, 'int32'),
  };
}
