import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../tf/backend.ts';
import { maskedSgd, type SgdKind } from './sgd.ts';

/** Runs three steps with fixed gradients; returns the parameters after each. */
function run(kind: SgdKind, mask: number[] | null): number[][] {
  const [p, bias] = tf.tidy(() => [
    tf.variable(tf.tensor1d([1, -2, 0.5, 3])),
    tf.variable(tf.tensor1d([0.25])),
  ]);
  const maskTensor = mask ? tf.tensor1d(mask) : null;
  const sgd = maskedSgd([p, bias], [maskTensor], { momentum: 0.9, weightDecay: 0.01 }, kind);
  const history: number[][] = [];
  for (const [lr, g] of [
    [0.1, [0.5, 0.5, -1, 2]],
    [0.1, [1, 0, 0, -1]],
    [0.01, [0, 1, 1, 0]],
  ] as const) {
    tf.tidy(() => sgd.step([tf.tensor1d([...g]), tf.tensor1d([1])], lr));
    history.push([...p.dataSync(), ...bias.dataSync()]);
  }
  sgd.dispose();
  tf.dispose([p, bias, ...(maskTensor ? [maskTensor] : [])]);
  return history;
}

/** torch.optim.SGD(momentum=0.9, weight_decay=0.01), written out by hand, then p ⊙ mask. */
function torchReference(mask: number[] | null): number[][] {
  let p = [1, -2, 0.5, 3, 0.25];
  let v = [0, 0, 0, 0, 0];
  const history: number[][] = [];
  for (const [lr, g] of [
    [0.1, [0.5, 0.5, -1, 2, 1]],
    [0.1, [1, 0, 0, -1, 1]],
    [0.01, [0, 1, 1, 0, 1]],
  ] as const) {
    v = v.map((vk, k) => 0.9 * vk + g[k] + 0.01 * p[k]);
    p = p.map((pk, k) => (pk - lr * v[k]) * (k < 4 && mask ? mask[k] : 1));
    history.push(p);
  }
  return history;
}

for (const backend of ['cpu', 'wasm']) {
  for (const kind of ['host', 'tensor'] as const) {
    test(`${backend}/${kind}: torch SGD semantics, masks re-applied after every step`, async () => {
      await selectBackend(backend);
      const before = tf.memory().numTensors;
      for (const mask of [null, [1, 0, 1, 0]]) {
        const actual = run(kind, mask);
        const expected = torchReference(mask);
        actual.forEach((values, step) => {
          values.forEach((value, k) => {
            assert.ok(
              Math.abs(value - expected[step][k]) < 1e-6,
              `step ${step} [${k}]: ${value} ≠ ${expected[step][k]}`,
            );
            if (mask && k < 4 && mask[k] === 0)
              assert.ok(value === 0, `pruned weight ${k} is ${value}, not 0`);
          });
        });
      }
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });
  }
}
