// The arithmetic contract of the sparse kernels: the host step with every masked dense layer on
// them computes the same loss, the same gradients at kept weights and, through the SGD, the same
// weights as the host step on the dense kernels, within float32 rounding; pruned weights stay
// exactly zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../../arch/zoo.ts';
import { type Batch, batches, type Dataset } from '../../data/index.ts';
import { initialWeights } from '../../model/init.ts';
import { Model } from '../../model/model.ts';
import { randomDataset } from '../../pruners/testing.ts';
import { Rng } from '../../random.ts';
import { selectBackend } from '../../tf/backend.ts';
import { type SparseChoice, sparseKernels } from './dispatch.ts';
import type { ParameterGradients } from './layer.ts';
import { HostNetwork } from './network.ts';
import { commonValue, keptRows, SparseDenseLayer } from './sparse-dense.ts';
import { HostTrainer } from './trainer.ts';
import { Values } from './values.ts';

/** Relative to the largest value compared: float32 sums of up to 784 products round to ~1e-6 of it. */
const TOLERANCE = 1e-5;
const DENSITIES = [1, 0.1, 0.01, 0.001];
const EVERY_LAYER_SPARSE = () => true;
const EVERY_LAYER_DENSE = () => false;

const arch = architecture('lenet300100');
const dataset = randomDataset(arch, 64, 1);
/**
 * The same images with 80 % of the pixels 0, as MNIST's background: they normalize to a value that
 * is not 0, which the sparse kernels skip as the commonest input.
 */
const background: Dataset = {
  ...dataset,
  train: { ...dataset.train, images: dataset.train.images.map((p, k) => (k % 5 === 0 ? p : 0)) },
};
const batchesOf = (data: Dataset): Batch[] => [
  ...batches(data, 'train', { batchSize: 16, shuffle: { seed: 2, epoch: 0 }, dropLast: true }),
];
const INPUTS: [string, Batch[]][] = [
  ['random pixels', batchesOf(dataset)],
  ['80 % background', batchesOf(background)],
];

/** max |actual − expected| over `positions` / max |expected| there. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, positions: Iterable<number>) {
  let diff = 0;
  let scale = 0;
  for (const k of positions) {
    diff = Math.max(diff, Math.abs(actual[k] - expected[k]));
    scale = Math.max(scale, Math.abs(expected[k]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Masks at `density` for every kernel, at least one weight kept per layer; in the model's layout. */
function masksAt(model: Model, density: number): tf.Tensor[] {
  const rng = new Rng(Math.round(1 / density));
  return arch.layers.map((layer, k) => {
    const mask = Uint8Array.from({ length: layer.params }, () => (rng.next() < density ? 1 : 0));
    mask[rng.int(layer.params)] = 1;
    return model.maskTensor(k, mask);
  });
}

/** A model whose kernels are masked, as the trainer leaves them before its first step. */
function maskedModel(): { model: Model; masks: (density: number) => tf.Tensor[] } {
  const model = new Model(arch, initialWeights(arch, 5));
  return {
    model,
    masks: (density) => {
      const masks = masksAt(model, density);
      masks.forEach((mask, k) => {
        tf.tidy(() => model.kernels[k].assign(tf.mul(model.kernels[k], mask)));
      });
      return masks;
    },
  };
}

function kept(mask: tf.Tensor): number[] {
  const values = mask.dataSync();
  return [...values.keys()].filter((k) => values[k] !== 0);
}

for (const backend of ['cpu', 'wasm']) {
  test(`${backend}: the sparse kernels' loss and kept gradients equal the dense kernels'`, async () => {
    await selectBackend(backend);
    for (const [input, trainBatches] of INPUTS)
      for (const density of DENSITIES) {
        const { model, masks: makeMasks } = maskedModel();
        const masks = makeMasks(density);
        const sparse = sparseKernels(model, masks, EVERY_LAYER_SPARSE);
        assert.ok(
          sparse.every((s) => s !== null),
          'every layer on the sparse kernels',
        );
        const run = (network: HostNetwork) =>
          tf.tidy(() => {
            const { loss, grads } = network.lossAndGradients(trainBatches[0]);
            return {
              loss,
              grads: model.trainable.map((p) => {
                const g = grads.get(p);
                assert.ok(g, `no gradient for ${p.name}`);
                return g instanceof Float32Array ? g.slice() : g.dataSync().slice();
              }),
            };
          });
        const dense = run(new HostNetwork(model));
        const actual = run(new HostNetwork(model, sparse));
        assert.ok(
          Math.abs(actual.loss - dense.loss) <= TOLERANCE * dense.loss,
          `${input}, density ${density}: loss ${actual.loss} vs ${dense.loss}`,
        );
        model.trainable.forEach((p, i) => {
          const positions = i < masks.length ? kept(masks[i]) : dense.grads[i].keys();
          const error = relativeError(actual.grads[i], dense.grads[i], positions);
          assert.ok(error <= TOLERANCE, `${input}, density ${density} ${p.name}: relative error ${error}`);
        });
        tf.dispose(masks);
        model.dispose();
      }
  });

  test(`${backend}: sparse and dense kernels leave the same weights, pruned ones exactly zero`, async () => {
    await selectBackend(backend);
    for (const [input, trainBatches] of INPUTS)
      for (const density of DENSITIES) {
        const run = (choose: SparseChoice) => {
          const { model, masks: makeMasks } = maskedModel();
          const masks = makeMasks(density);
          const positions = masks.map((mask) => mask.dataSync().slice());
          const trainer = new HostTrainer(model, masks, { momentum: 0.9, weightDecay: 5e-4 }, choose);
          for (const [k, batch] of trainBatches.entries()) trainer.step(batch, k < 2 ? 0.1 : 0.01);
          trainer.dispose();
          const params = model.trainable.map((p) => p.dataSync().slice());
          model.dispose();
          return { params, positions };
        };
        const before = tf.memory().numTensors;
        const dense = run(EVERY_LAYER_DENSE);
        const sparse = run(EVERY_LAYER_SPARSE);
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        sparse.params.forEach((values, i) => {
          const error = relativeError(values, dense.params[i], values.keys());
          assert.ok(
            error <= TOLERANCE,
            `${input}, density ${density} parameter ${i}: relative error ${error}`,
          );
          const mask = sparse.positions[i];
          if (mask)
            for (const [k, v] of values.entries()) assert.ok(mask[k] !== 0 || v === 0, `weight ${k} is ${v}`);
        });
      }
  });
}

test('the kept rows list each input’s kept outputs and the inputs that have any', () => {
  // [3 inputs, 2 outputs]: input 0 keeps output 1, input 1 nothing, input 2 both.
  const rows = keptRows([0, 1, 0, 0, 1, 1], 3, 2);
  assert.deepEqual([...rows.start], [0, 1, 1, 3]);
  assert.deepEqual([...rows.output], [1, 0, 1]);
  assert.deepEqual([...rows.active], [0, 2]);
  assert.deepEqual([...rows.flat], [1, 4, 5]);
});

test('the skipped input value is 0, or the first row’s smallest where more inputs hold it', () => {
  // Normalized background (−0.42) in most of the first row: skipped; a later row is not looked at.
  assert.equal(commonValue(Float32Array.of(-0.5, -0.5, 0, 1, -0.5, 0, 0, 0), 4), Math.fround(-0.5));
  // ReLU outputs: more zeros than minima.
  assert.equal(commonValue(Float32Array.of(0, 0, 0.5, 2), 4), 0);
  // A tie keeps 0: skipping exact zeros needs no correction term.
  assert.equal(commonValue(Float32Array.of(-1, 0, 3), 3), 0);
});

test('the sparse kernels follow a batch size that grows and shrinks', async () => {
  // Their buffers are laid out for the largest batch seen, in a memory that grows: 8 rows, 16, 8.
  await selectBackend('cpu');
  const { model, masks: makeMasks } = maskedModel();
  const masks = makeMasks(0.1);
  const [batch] = INPUTS[1][1];
  const half: Batch = { size: 8, images: batch.images.slice(0, 8 * 784), labels: batch.labels.slice(0, 8) };
  const dense = new HostNetwork(model);
  const sparse = new HostNetwork(model, sparseKernels(model, masks, EVERY_LAYER_SPARSE));
  // The first kernel's gradient passes through every layer's backward pass.
  const run = (network: HostNetwork, b: Batch) =>
    tf.tidy(() => {
      const { loss, grads } = network.lossAndGradients(b);
      const g = grads.get(model.kernels[0]);
      return { loss, gradient: g instanceof Float32Array ? g.slice() : g?.dataSync().slice() };
    });
  for (const b of [half, batch, half]) {
    const expected = run(dense, b);
    const actual = run(sparse, b);
    assert.ok(Math.abs(actual.loss - expected.loss) <= TOLERANCE * expected.loss, `batch of ${b.size}: loss`);
    const error = relativeError(actual.gradient ?? [], expected.gradient ?? [], kept(masks[0]));
    assert.ok(error <= TOLERANCE, `batch of ${b.size}: relative error ${error}`);
  }
  tf.dispose(masks);
  model.dispose();
});

test('the sparse products equal plain sums, skipping 0 or a background value, with or without a ReLU below', async () => {
  await selectBackend('cpu');
  const [inputs, outputs, rows] = [9, 6, 4];
  const rng = new Rng(3);
  const mask = Array.from({ length: inputs * outputs }, () => (rng.next() < 0.4 ? 1 : 0));
  const w = Float32Array.from(mask, (m) => (m ? rng.next() - 0.5 : 0));
  const kernel = tf.variable(tf.tensor2d(w, [inputs, outputs]));
  const dy = Float32Array.from({ length: rows * outputs }, () => rng.next() - 0.5);
  // A ReLU's outputs (a third 0), and normalized images (two thirds background, −0.42).
  for (const common of [0, Math.fround(-0.42)]) {
    const x = Float32Array.from({ length: rows * inputs }, (_, k) =>
      k % 3 === (common ? 1 : 0) ? rng.next() : common,
    );
    for (const reluInput of [false, true]) {
      const layer = new SparseDenseLayer(
        kernel,
        undefined,
        false,
        keptRows(mask, inputs, outputs),
        reluInput,
      );
      const y = layer
        .forward(Values.host(x, rows, inputs))
        .read()
        .slice();
      const grads: ParameterGradients = new Map();
      const dx =
        layer
          .backward(Values.host(dy, rows, outputs), grads)
          ?.read()
          .slice() ?? [];
      const dW = grads.get(kernel) as Float32Array;
      const close = (a: number, b: number, what: string) =>
        assert.ok(Math.abs(a - b) <= 1e-6, `${what}: ${a} vs ${b}`);
      for (let r = 0; r < rows; r++)
        for (let o = 0; o < outputs; o++) {
          let sum = 0;
          for (let i = 0; i < inputs; i++) sum += x[r * inputs + i] * w[i * outputs + o];
          close(y[r * outputs + o], sum, `y[${r},${o}]`);
        }
      for (let i = 0; i < inputs; i++)
        for (let o = 0; o < outputs; o++) {
          if (!mask[i * outputs + o]) continue;
          let sum = 0;
          for (let r = 0; r < rows; r++) sum += x[r * inputs + i] * dy[r * outputs + o];
          close(dW[i * outputs + o], sum, `dW[${i},${o}]`);
        }
      // Below a ReLU, the gradient is only needed (and only computed) where the input is positive.
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < inputs; i++) {
          let sum = 0;
          for (let o = 0; o < outputs; o++) sum += w[i * outputs + o] * dy[r * outputs + o];
          const gated = reluInput && common === 0 && x[r * inputs + i] === 0;
          close(dx[r * inputs + i], gated ? 0 : sum, `dx[${r},${i}] (ReLU below: ${reluInput})`);
        }
    }
  }
  kernel.dispose();
});

test('the trainer picks the kernels per layer on its first batch: the first layer by the data', async () => {
  await selectBackend('cpu');
  const picked = (batches: Batch[]) => {
    const { model, masks: makeMasks } = maskedModel();
    const trainer = new HostTrainer(model, makeMasks(0.2), { momentum: 0.9, weightDecay: 5e-4 });
    trainer.step(batches[0], 0.1);
    trainer.dispose();
    model.dispose();
    return trainer.sparseLayers;
  };
  // At density 0.2, fc1 is cheaper sparse on mostly-background images only; fc2 and fc3 are dense.
  assert.deepEqual(picked(INPUTS[1][1]), [true, false, false]);
  assert.deepEqual(picked(INPUTS[0][1]), [false, false, false]);
});
