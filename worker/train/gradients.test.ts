/**
 * The whole training gradient (custom dense/conv/batch-norm/cross-entropy gradients, pools,
 * residual adds) of every architecture of the zoo on wasm equals the cpu backend's, batch norm on
 * batch statistics: every trainable parameter, max |diff| ≤ 1e-4 × max |cpu's|.
 *
 * The two backends round differently, so a unit whose input lies within rounding of zero can be
 * active on one and not on the other; the gradient is discontinuous there, not wrong. The shapes
 * and seeds below keep the activation count low enough that no unit flips. docs/performance.md
 * explains the choice of shapes, records the differences measured, and says how to tell such a
 * kink from a wrong gradient if a tfjs upgrade makes one network fail.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ARCHITECTURE_NAMES, architecture } from '../arch/zoo.ts';
import { initialWeights } from '../model/init.ts';
import { crossEntropy, Model } from '../model/model.ts';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';

interface Case {
  arch: string;
  batch: number;
  /** Smaller images than the default dataset's (same layers); see the header. */
  imageSize?: number;
}

const CASES: readonly Case[] = [
  { arch: 'lenet300100', batch: 8 },
  { arch: 'lenet5', batch: 8 },
  { arch: 'vgg16', batch: 2 },
  { arch: 'vgg19', batch: 2 },
  { arch: 'resnet18', batch: 8, imageSize: 16 },
];

async function gradients(backend: string, { arch: name, batch, imageSize }: Case): Promise<Float32Array[]> {
  await selectBackend(backend);
  const arch = architecture(name, undefined, { imageSize });
  const rng = new Rng(7);
  const [h, w, c] = arch.input;
  const images = Float32Array.from({ length: batch * h * w * c }, () => rng.normal());
  const model = new Model(arch, initialWeights(arch, 3));
  try {
    const grads = tf.tidy(() => {
      const x = tf.tensor4d(images, [batch, h, w, c]);
      const y = tf.tensor1d(
        Array.from({ length: batch }, (_, k) => (3 * k) % arch.classes),
        'int32',
      );
      const { grads } = tf.variableGrads(() => crossEntropy(model.forward(x, 'train'), y), model.trainable);
      return model.trainable.map((v) => grads[v.name]);
    });
    const values = grads.map((g) => (g.dataSync() as Float32Array).slice());
    tf.dispose(grads);
    return values;
  } finally {
    model.dispose();
  }
}

test('every architecture of the zoo is compared', () => {
  assert.deepEqual(CASES.map((c) => c.arch).sort(), [...ARCHITECTURE_NAMES].sort());
});

for (const testCase of CASES) {
  test(`${testCase.arch}: every parameter's gradient on wasm equals cpu's to 1e-4 relative`, async (t) => {
    const reference = await gradients('cpu', testCase);
    const actual = await gradients('wasm', testCase);
    assert.equal(actual.length, reference.length);
    let worstRelative = 0;
    reference.forEach((expected, k) => {
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      assert.ok(scale > 0, `parameter ${k}: gradient is all zeros`);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[k][i] - expected[i]));
      assert.ok(worst <= 1e-4 * scale, `parameter ${k}: max |diff| ${worst} > 1e-4 × ${scale}`);
      worstRelative = Math.max(worstRelative, worst / scale);
    });
    t.diagnostic(`worst parameter: max |diff| = ${worstRelative.toExponential(2)} × max |cpu's|`);
  });
}
