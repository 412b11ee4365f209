// The running batch-norm statistics a training step leaves behind (what evaluation then uses):
// torch's update, momentum 0.1 with the variance unbiased by n/(n−1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../arch/graph.ts';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';
import { Model } from './model.ts';

test('a training step folds the batch statistics into the running ones that evaluation uses', async () => {
  await selectBackend('cpu');
  const [n, inputs, outputs] = [5, 4, 3];
  const g = new GraphBuilder([1, 1, inputs]);
  g.batchnorm(g.dense(g.flatten(g.inputId), 'fc', outputs));
  const arch = g.build({ name: 'one-norm', dataset: 'test', input: [1, 1, inputs], classes: outputs });
  const rng = new Rng(3);
  const weights = Float32Array.from({ length: outputs * inputs }, () => rng.normal()); // torch [out, in]
  const images = Float32Array.from({ length: n * inputs }, () => rng.normal());
  const model = new Model(arch, [weights]);
  try {
    const evaluated = tf.tidy(() => {
      const x = tf.tensor4d(images, [n, 1, 1, inputs]);
      model.forward(x, 'trainStep');
      return model.forward(x, 'eval').arraySync();
    });
    // h = x·Wᵀ; running mean 0.9·0 + 0.1·mean(h), running variance 0.9·1 + 0.1·var(h)·n/(n−1).
    const h = Array.from({ length: n }, (_, i) =>
      Array.from({ length: outputs }, (_, o) =>
        Array.from({ length: inputs }, (_, k) => images[i * inputs + k] * weights[o * inputs + k]).reduce(
          (a, b) => a + b,
        ),
      ),
    );
    for (let o = 0; o < outputs; o++) {
      const column = h.map((row) => row[o]);
      const mean = column.reduce((a, b) => a + b) / n;
      const variance = column.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
      const runningMean = 0.1 * mean;
      const runningVariance = 0.9 + 0.1 * variance * (n / (n - 1));
      for (let i = 0; i < n; i++) {
        const expected = (h[i][o] - runningMean) / Math.sqrt(runningVariance + 1e-5);
        assert.ok(
          Math.abs(evaluated[i][o] - expected) < 1e-5,
          `row ${i}, output ${o}: ${evaluated[i][o]} vs ${expected}`,
        );
      }
    }
  } finally {
    model.dispose();
  }
});
