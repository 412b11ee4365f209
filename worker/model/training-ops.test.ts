import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';
import { batchNormTraining, softmaxCrossEntropy } from './training-ops.ts';

function normals(count: number, seed: number, scale = 1, shift = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: count }, () => shift + scale * rng.normal());
}

/** |a − b| ≤ 1e-4 · max|b| element-wise. */
function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const b = expected.dataSync();
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: reference is all zeros`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= 1e-4 * scale, `${what}: max |diff| ${worst} > 1e-4 × ${scale}`);
}

const EPSILON = 1e-5;

/** tfjs' own batch norm on batch statistics, differentiated by its autograd. */
function referenceBatchNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D) {
  const axes = Array.from({ length: x.rank - 1 }, (_, k) => k);
  const { mean, variance } = tf.moments(x, axes);
  return { y: tf.batchNorm(x, mean, variance, beta, gamma, EPSILON), mean, variance };
}

for (const backend of ['cpu', 'wasm']) {
  describe(`training ops on ${backend}`, () => {
    for (const shape of [
      [6, 5],
      [3, 4, 5, 7],
    ]) {
      test(`batch norm ${shape.join('×')}: values, batch statistics and gradients equal tfjs' own`, async () => {
        await selectBackend(backend);
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const channels = shape[shape.length - 1];
          const size = shape.reduce((a, b) => a * b, 1);
          const x = tf.tensor(normals(size, 1, 2, 0.7), shape);
          const gamma = tf.tensor1d(normals(channels, 2, 0.5, 1));
          const beta = tf.tensor1d(normals(channels, 3));
          const r = tf.tensor(normals(size, 4), shape);
          const stats: tf.Tensor[] = [];
          const ours = batchNormTraining(x, gamma, beta, EPSILON, (mean, variance, count) => {
            assert.equal(count, size / channels);
            stats.push(tf.keep(mean.clone()), tf.keep(variance.clone()));
          });
          const theirs = referenceBatchNorm(x, gamma, beta);
          assertClose(ours, theirs.y, 'y');
          assertClose(stats[0], theirs.mean, 'mean');
          assertClose(stats[1], theirs.variance, 'variance');
          tf.dispose(stats);
          const loss =
            (bn: (a: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor) =>
            (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
              tf.sum(tf.mul(bn(a, g as tf.Tensor1D, b as tf.Tensor1D), r));
          const ourGrads = tf.grads(loss((a, g, b) => batchNormTraining(a, g, b, EPSILON)))([x, gamma, beta]);
          const theirGrads = tf.grads(loss((a, g, b) => referenceBatchNorm(a, g, b).y))([x, gamma, beta]);
          ['dx', 'dγ', 'dβ'].forEach((name, k) => {
            assertClose(ourGrads[k], theirGrads[k], name);
          });
        });
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      });
    }

    test('softmax cross-entropy: value and gradient equal tf.losses.softmaxCrossEntropy', async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const logits = tf.tensor2d(normals(7 * 5, 5, 3), [7, 5]);
        const labels = tf.tensor1d([0, 4, 2, 2, 1, 3, 4], 'int32');
        const reference = (z: tf.Tensor) =>
          tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 5), z as tf.Tensor2D) as tf.Scalar;
        const ours = (z: tf.Tensor) => softmaxCrossEntropy(z as tf.Tensor2D, labels);
        assertClose(ours(logits), reference(logits), 'loss');
        assertClose(tf.grad(ours)(logits), tf.grad(reference)(logits), 'dlogits');
      });
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });
  });
}
