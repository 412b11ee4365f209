/**
 * The whole training gradient (custom dense/conv/batch-norm/cross-entropy gradients, pools) on
 * wasm equals the cpu backend's, batch norm on batch statistics.
 *
 * Batch of 8, not 2: with two examples a dense layer's batch norm maps every input to ±1, its
 * input gradient is (dy − mean dy − x̂·mean(dy·x̂))·γ/σ, an exact cancellation down to a factor
 * ε/(σ²+ε), so both backends return float32 rounding noise there (measured: 8e-4 relative apart on
 * LeNet-300-100; 1e-6 at batch 8). VGG and ResNet are not here: the cpu backend's convolutions
 * take minutes per network on this machine (VGG-16 at batch 2: 137 s); their layers are covered
 * one by one in worker/tf/ops.test.ts and the batch norm op in worker/model/training-ops.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../arch/zoo.ts';
import { initialWeights } from '../model/init.ts';
import { crossEntropy, Model } from '../model/model.ts';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';

const BATCH = 8;

async function gradients(backend: string, archName: string): Promise<Float32Array[]> {
  await selectBackend(backend);
  const arch = architecture(archName);
  const rng = new Rng(7);
  const [h, w, c] = arch.input;
  const images = Float32Array.from({ length: BATCH * h * w * c }, () => rng.normal());
  const model = new Model(arch, initialWeights(arch, 3));
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(images, [BATCH, h, w, c]);
      const y = tf.tensor1d(
        Array.from({ length: BATCH }, (_, k) => (3 * k) % arch.classes),
        'int32',
      );
      const { grads } = tf.variableGrads(
        () => crossEntropy(model.forward(x, 'train').logits, y),
        model.trainable,
      );
      return model.trainable.map((v) => Float32Array.from(grads[v.name].dataSync()));
    });
  } finally {
    model.dispose();
  }
}

for (const archName of ['lenet300100', 'lenet5']) {
  test(`${archName}: every parameter's gradient on wasm equals cpu's to 1e-4 relative`, async () => {
    const reference = await gradients('cpu', archName);
    const actual = await gradients('wasm', archName);
    assert.equal(actual.length, reference.length);
    reference.forEach((expected, k) => {
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      assert.ok(scale > 0, `parameter ${k}: gradient is all zeros`);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[k][i] - expected[i]));
      assert.ok(worst <= 1e-4 * scale, `parameter ${k}: max |diff| ${worst} > 1e-4 × ${scale}`);
    });
  });
}
