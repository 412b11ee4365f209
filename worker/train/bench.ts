/**
 * `npm run bench:train`: seconds per LeNet-300-100 MNIST epoch (masked, batch 100) through the real
 * training step, next to the floor measured in the same run — the same matMuls with no framework
 * code of ours (worker/tf/bench-floor.ts). Target: ≤ 1.3× the floor. Then, for the record, seconds
 * per VGG-16 and ResNet-18 step at batch 128 on generated data.
 *
 *   npm run bench:train [-- --backend wasm] [-- --conv-steps 2] [-- --skip-conv]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../arch/zoo.ts';
import { type Batch, batches, type Dataset, loadDataset } from '../data/index.ts';
import { modelGradients } from '../model/gradients.ts';
import { initialWeights } from '../model/init.ts';
import { Model } from '../model/model.ts';
import { pruner } from '../pruners/catalog.ts';
import { prune } from '../pruners/prune.ts';
import { Rng } from '../random.ts';
import { describeBackend, selectBackend } from '../tf/backend.ts';
import { benchFloorEpoch, floorStep, LENET300100_SIZES } from '../tf/bench-floor.ts';
import { referenceSettings } from './settings.ts';
import { Trainer } from './trainer.ts';

const TARGET_RATIO = 1.3;
/** The masked network of the epoch benchmark: random IGQ masks at 10× direct compression. */
const BENCH_SPARSITY = 0.9;

const { values: args } = parseArgs({
  options: {
    backend: { type: 'string' },
    'conv-steps': { type: 'string', default: '2' },
    'skip-conv': { type: 'boolean', default: false },
  },
});

async function maskedLenetEpoch(): Promise<{ seconds: number; steps: number }> {
  const arch = architecture('lenet300100');
  const dataset = await loadDataset('mnist');
  const seed = 0;
  const weights = initialWeights(arch, seed);
  const masks = await prune(
    { arch, seed, initialWeights: weights, network: modelGradients(arch), scoreBatches: 1 },
    pruner('random/igq'),
    { sparsity: BENCH_SPARSITY, type: 'direct' },
  );
  const model = new Model(arch, weights);
  const settings = referenceSettings('lenet300100');
  const trainer = new Trainer(model, masks, dataset, { momentum: 0.9, weightDecay: settings.weightDecay });
  const epoch = (n: number) => [
    ...batches(dataset, 'train', {
      batchSize: settings.batchSize,
      shuffle: { seed, epoch: n },
      dropLast: true,
    }),
  ];
  // Batches are made before the clock starts: the floor gets its data for free too.
  const warmUp = epoch(0).slice(0, 20);
  for (const batch of warmUp) trainer.step(batch, settings.learningRate);
  await trainer.drainLoss();
  const timed = epoch(1);
  const start = performance.now();
  for (const batch of timed) trainer.step(batch, settings.learningRate);
  await trainer.drainLoss();
  const seconds = (performance.now() - start) / 1000;
  trainer.dispose();
  model.dispose();
  return { seconds, steps: timed.length };
}

/** A dataset of random pixels shaped for `archName`'s default dataset (only its shape is used). */
function generatedBatch(dataset: Pick<Dataset, 'input' | 'classes'>, size: number): Batch {
  const rng = new Rng(1);
  const [h, w, c] = dataset.input;
  const images = new Float32Array(size * h * w * c);
  for (let k = 0; k < images.length; k++) images[k] = rng.normal();
  const labels = Int32Array.from({ length: size }, () => rng.int(dataset.classes));
  return { size, images, labels };
}

async function convStep(archName: string, steps: number): Promise<number> {
  const arch = architecture(archName);
  const settings = referenceSettings(archName);
  const model = new Model(arch, initialWeights(arch, 0));
  const shape = { input: arch.input, classes: arch.classes };
  const batch = generatedBatch(shape, 128);
  const dataset = { ...shape } as Dataset;
  const masks = arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
  const trainer = new Trainer(model, masks, dataset, { momentum: 0.9, weightDecay: settings.weightDecay });
  trainer.step(batch, settings.learningRate);
  await trainer.drainLoss();
  const start = performance.now();
  for (let k = 0; k < steps; k++) trainer.step(batch, settings.learningRate);
  await trainer.drainLoss();
  const seconds = (performance.now() - start) / 1000 / steps;
  trainer.dispose();
  model.dispose();
  return seconds;
}

/**
 * The floor again, but with weights that changed since the previous step, as after any optimizer
 * update: the wasm backend packs a matMul's right operand into an XNNPACK operator cached by tensor
 * id, so the helper's constant weights skip packing that every real training step must do. The
 * fresh copies are made off the clock.
 */
async function floorWithUpdatedWeights(steps: number, batch: number): Promise<number> {
  const sizes = LENET300100_SIZES;
  const x = tf.randomNormal([batch, sizes[0]], 0, 1, 'float32', 1) as tf.Tensor2D;
  const weights = sizes.slice(1).map((out, i) => tf.randomNormal([sizes[i], out], 0, 0.05, 'float32', 2 + i));
  const dOut = tf.randomNormal([batch, sizes[sizes.length - 1]], 0, 1, 'float32', 99) as tf.Tensor2D;
  let seconds = 0;
  for (let step = 0; step <= steps; step++) {
    const fresh = tf.tidy(() => weights.map((w) => tf.add(w, 0) as tf.Tensor2D));
    await fresh[0].data();
    const start = performance.now();
    const grad = tf.tidy(() => floorStep(x, fresh, dOut)[0]);
    await grad.data();
    if (step > 0) seconds += (performance.now() - start) / 1000; // step 0 warms up
    tf.dispose([grad, ...fresh]);
  }
  tf.dispose([x, ...weights, dOut]);
  return seconds;
}

const choice = await selectBackend(args.backend);
console.log(describeBackend(choice));
const real = await maskedLenetEpoch();
const floor = await benchFloorEpoch({ steps: real.steps, batch: 100 });
const updatedFloor = await floorWithUpdatedWeights(real.steps, 100);
const ratio = real.seconds / floor.seconds;
const line = (label: string, seconds: number) => console.log(`${label.padEnd(58)}${seconds.toFixed(2)} s`);
line(
  `LeNet-300-100 MNIST epoch (${real.steps} steps of 100, ${BENCH_SPARSITY * 100}% masked):`,
  real.seconds,
);
line('floor (worker/tf/bench-floor: bare matMuls, constant weights):', floor.seconds);
line('floor with weights updated every step (bare matMuls):', updatedFloor);
console.log(
  `ratio ${ratio.toFixed(2)}× the floor (target ≤ ${TARGET_RATIO}×: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'}); ` +
    `${(real.seconds / updatedFloor).toFixed(2)}× the floor with updated weights`,
);
if (!args['skip-conv']) {
  const steps = Number(args['conv-steps']);
  for (const name of ['vgg16', 'resnet18']) {
    console.log(
      `${name} step at batch 128: ${(await convStep(name, steps)).toFixed(2)} s (mean of ${steps})`,
    );
  }
}
