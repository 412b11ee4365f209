/**
 * The whole training gradient (custom dense/conv/batch-norm/cross-entropy gradients, pools,
 * residual adds) of every architecture of the zoo on wasm equals the cpu backend's, batch norm on
 * batch statistics: every trainable parameter, max |diff| ≤ 1e-4 × max |cpu's|. On cpu, input
 * gradients of convs are tfjs' own kernel and kernel gradients the forward-conv formula of ops.ts
 * (checked against tfjs' own `Conv2DBackpropFilter` layer by layer in worker/tf/ops.test.ts).
 *
 * Both backends agree to float32 rounding except at ReLU kinks. Their forward passes differ by
 * rounding (wasm's reductions and convs accumulate in float32, cpu's reductions in float64: batch
 * norm outputs ~1e-6 relative apart after the first layer, growing ~1.3× per layer), and a unit
 * whose input lies within that of zero is active on one backend and not on the other. One such
 * flip moves the gradient of every layer below it by up to 1e-2 relative (ResNet-18 at 32×32,
 * batch 8: 8 flips among 4.5M activations, all its parameters ~1e-2 apart; VGG-16 at batch 4:
 * one, 4e-3). That is the gradient being discontinuous there, not a wrong gradient, so the shapes
 * below keep the activation count low enough that no unit flips:
 * - VGG needs 32×32 (five 2×2 pools); batch 2 (stage 5 normalizes 8 values per channel).
 * - ResNet-18 on 16×16 images (the zoo's `imageSize`: the same layers, stage 4 on 2×2 maps, so
 *   every tap of every kernel, padding included, gets a gradient), batch 8.
 * - LeNets at batch 8: at batch 2 a dense layer's batch norm maps every input to ±1 and its input
 *   gradient cancels exactly, leaving rounding noise on both backends (8e-4 apart, 1e-6 at 8).
 * Measured with these shapes and seeds: no flips; worst relative differences 1.6e-6 (LeNet-300-100)
 * to 5.5e-5 (VGG-19, whose forward differences grow most over its 16 batch-normed convs). Over
 * five other seeds (images and weights), VGG-16 and ResNet-18 each hit a kink once (failing by
 * ~1e-2), VGG-19 never. So should a tfjs upgrade make one network fail by ~1e-2, see whether the
 * failure follows the seed before suspecting the gradient code (a wrong gradient fails every
 * seed; a 5e-4 error in wasm's conv input gradient fails every conv net here).
 *
 * The cpu backend costs seconds here only because its kernel gradients are forward convs
 * (ops.ts). Gradients are read outside `tf.tidy`, which walks every element of returned arrays
 * (10 s per VGG-sized network).
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
