import * as tf from '@tensorflow/tfjs';
import type { Batch, Dataset } from '../data/index.ts';

/** A batch as tensors: images NHWC, labels int32. */
export function batchTensors(dataset: Dataset, batch: Batch): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const [h, w, c] = dataset.input;
  return {
    x: tf.tensor4d(batch.images, [batch.size, h, w, c]),
    y: tf.tensor1d(batch.labels, 'int32'),
  };
}
