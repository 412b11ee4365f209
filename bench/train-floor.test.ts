import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../worker/tf/backend.ts';
import { benchFloorEpoch, floorStep } from './train-floor.ts';

test('a floor step computes exactly the weight gradients of the bare linear network', async () => {
  await selectBackend('cpu');
  const sizes = [6, 5, 4, 3];
  const x = tf.randomNormal([2, sizes[0]], 0, 1, 'float32', 1) as tf.Tensor2D;
  const weights = sizes
    .slice(1)
    .map((out, i) => tf.randomNormal([sizes[i], out], 0, 1, 'float32', 2 + i) as tf.Tensor2D);
  const dOut = tf.randomNormal([2, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
  const loss = (...ws: tf.Tensor[]) =>
    tf.sum(
      tf.mul(
        ws.reduce((h, w) => tf.matMul(h, w), x as tf.Tensor),
        dOut,
      ),
    );
  const expected = tf.grads(loss)(weights);
  const actual = floorStep(x, weights, dOut);
  assert.equal(actual.length, 3);
  actual.forEach((g, l) => {
    assert.deepEqual(g.shape, weights[l].shape);
    const diff = tf.max(tf.abs(tf.sub(g, expected[l]))).dataSync()[0];
    assert.ok(diff < 1e-4, `layer ${l}: max |diff| ${diff}`);
  });
  tf.dispose([x, ...weights, dOut, ...expected, ...actual]);
});

test('benchFloorEpoch times the requested steps on the active backend and frees its tensors', async () => {
  await selectBackend('wasm');
  for (const fixedWeights of [false, true]) {
    const before = tf.memory().numTensors;
    const result = await benchFloorEpoch({ steps: 3, batch: 4, fixedWeights });
    assert.equal(result.steps, 3);
    assert.equal(result.batch, 4);
    assert.equal(result.backend, 'wasm');
    assert.ok(result.seconds > 0 && Number.isFinite(result.seconds));
    assert.ok(result.cpuSeconds > 0 && Number.isFinite(result.cpuSeconds));
    assert.equal(tf.memory().numTensors, before, `fixedWeights ${fixedWeights}`);
  }
});

test('the default floor makes new weight tensors every step; fixedWeights keeps one set', async () => {
  await selectBackend('wasm');
  // Tensor ids count every tensor ever made: the difference between the two runs is the uploads.
  const nextId = () => tf.tidy(() => tf.scalar(0).id);
  const tensorsMade = async (fixedWeights: boolean) => {
    const start = nextId();
    await benchFloorEpoch({ steps: 4, batch: 2, sizes: [3, 2, 2], fixedWeights });
    return nextId() - start;
  };
  const fresh = await tensorsMade(false);
  const fixed = await tensorsMade(true);
  // Two layers' weights, in the warm-up step and each of the four timed steps.
  assert.equal(fresh - fixed, 2 * 5);
});
