/** Test-set accuracy and loss, batch norm on its running statistics. */
import * as tf from '@tensorflow/tfjs';
import { batches, type Dataset } from '../data/index.ts';
import { batchTensors } from '../model/batch-tensors.ts';
import { crossEntropy, type Model } from '../model/model.ts';

export interface Evaluation {
  accuracy: number;
  loss: number;
}

/**
 * Accuracy and mean loss over every example of `split`. Sums stay on the device and are read once,
 * so a GPU backend is not synchronised per batch.
 */
export async function evaluate(
  model: Model,
  dataset: Dataset,
  batchSize: number,
  split: 'train' | 'test' = 'test',
): Promise<Evaluation> {
  let correct = tf.scalar(0);
  let lossSum = tf.scalar(0);
  for (const batch of batches(dataset, split, { batchSize })) {
    const [nextCorrect, nextLoss] = tf.tidy(() => {
      const { x, y } = batchTensors(model.arch.input, batch);
      const logits = model.forward(x, 'eval');
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'));
      const loss = tf.mul(crossEntropy(logits, y), batch.size);
      return [tf.add(correct, hits), tf.add(lossSum, loss)];
    });
    tf.dispose([correct, lossSum]);
    correct = nextCorrect;
    lossSum = nextLoss;
  }
  const [hits, loss] = await Promise.all([correct.data(), lossSum.data()]);
  tf.dispose([correct, lossSum]);
  const count = dataset[split].count;
  return { accuracy: hits[0] / count, loss: loss[0] / count };
}
