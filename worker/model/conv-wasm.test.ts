import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { architecture } from '../arch/zoo.ts';
import type { Batch } from '../data/index.ts';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';
import { trainingFitProblem } from '../train/footprint.ts';
import { MOMENTUM, referenceSettings } from '../train/settings.ts';
import { createTrainer } from '../train/trainer.ts';
import { initialWeights } from './init.ts';
import { Model } from './model.ts';

// The conv nets at a small batch on small images: the same layers, kernels and backward pass as at
// full size, at a cost a shared CI machine can pay.
const BATCH = 4;
const STEPS = 5;

before(() => selectBackend('wasm'));

function fixedBatch(input: readonly number[], classes: number): Batch {
  const rng = new Rng(1);
  return {
    size: BATCH,
    images: Float32Array.from({ length: BATCH * input.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1),
    labels: Int32Array.from({ length: BATCH }, () => rng.int(classes)),
  };
}

/** The loss of each of STEPS steps on one fixed batch. */
async function lossesOnWasm(name: string, imageSize: number): Promise<number[]> {
  const arch = architecture(name, 'cifar10', { imageSize });
  assert.equal(trainingFitProblem(arch, BATCH, 'wasm'), null);
  const settings = referenceSettings(name);
  const model = new Model(arch, initialWeights(arch, 0));
  const masks = arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
  const trainer = createTrainer(model, masks, { momentum: MOMENTUM, weightDecay: settings.weightDecay });
  const batch = fixedBatch(arch.input, arch.classes);
  const losses: number[] = [];
  try {
    for (let k = 0; k < STEPS; k++) {
      trainer.step(batch, settings.learningRate / 10);
      losses.push((await trainer.drainLoss()).sum);
    }
  } finally {
    trainer.dispose();
    model.dispose();
  }
  return losses;
}

function assertTrains(losses: number[]): void {
  assert.equal(losses.length, STEPS);
  for (const loss of losses) assert.ok(Number.isFinite(loss), `loss ${losses}`);
  assert.ok(losses[STEPS - 1] < losses[0], `loss does not fall: ${losses}`);
}

test('ResNet-18 trains on wasm at a batch that fits: finite loss, falling over 5 steps', async () => {
  assertTrains(await lossesOnWasm('resnet18', 8));
});

test('VGG-16 trains on wasm at a batch that fits: finite loss, falling over 5 steps', async () => {
  // 32×32 is VGG's smallest input: five 2×2 poolings.
  assertTrains(await lossesOnWasm('vgg16', 32));
});
