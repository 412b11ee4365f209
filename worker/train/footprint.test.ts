import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { architecture } from '../arch/zoo.ts';
import {
  assertTrainingFits,
  largestFittingBatch,
  stepMemoryLimit,
  trainingFitProblem,
  trainingStepBytes,
} from './footprint.ts';

const MIB = 2 ** 20;

test('the estimate matches the peak bytes tf.profile measured for one training step on wasm (within 5%)', () => {
  const measured: [string, string, number, number][] = [
    ['resnet18', 'cifar10', 8, 423],
    ['resnet18', 'cifar10', 16, 718],
    ['resnet18', 'tinyimagenet', 4, 719],
    ['vgg16', 'cifar10', 8, 292],
    ['vgg16', 'cifar10', 32, 662],
  ];
  for (const [name, dataset, batch, peakMib] of measured) {
    const estimate = trainingStepBytes(architecture(name, dataset), batch) / MIB;
    assert.ok(
      Math.abs(estimate / peakMib - 1) < 0.05,
      `${name}/${dataset}@${batch}: ${estimate} MiB vs ${peakMib}`,
    );
  }
});

test('ResNet-18 at its reference batch is refused on wasm with the limit and the way out, in one line', () => {
  const arch = architecture('resnet18');
  assert.equal(
    trainingFitProblem(arch, 256, 'wasm'),
    'resnet18 on tinyimagenet at batch 256 needs about 37.0 GiB per training step, more than the wasm backend ' +
      'can hold (3.4 GiB of its 4 GiB heap): use batchSize ≤ 22, or a GPU',
  );
  for (const backend of ['gpu', 'node', 'cpu'] as const)
    assert.equal(trainingFitProblem(arch, 256, backend), null);
});

test('the largest fitting batch is the boundary: it fits, one more does not', () => {
  const limit = stepMemoryLimit('wasm')!;
  for (const [name, dataset] of [
    ['resnet18', 'cifar10'],
    ['resnet18', 'tinyimagenet'],
    ['vgg16', 'cifar10'],
  ]) {
    const arch = architecture(name, dataset);
    const batch = largestFittingBatch(arch, limit);
    assert.equal(trainingFitProblem(arch, batch, 'wasm'), null);
    assert.notEqual(trainingFitProblem(arch, batch + 1, 'wasm'), null);
  }
  assert.equal(largestFittingBatch(architecture('vgg16'), 1), 0);
});

test('VGG-16 and VGG-19 fit on wasm at their reference batch; a sweep with a ResNet-18 trial that cannot is refused', () => {
  assertTrainingFits(
    [{ arch: 'vgg16' }, { arch: 'vgg19' }, { arch: 'lenet5' }, { arch: 'resnet18', batchSize: 16 }],
    'wasm',
  );
  assert.throws(
    () => assertTrainingFits([{ arch: 'lenet5' }, { arch: 'resnet18', dataset: 'cifar10' }], 'wasm'),
    (e: unknown) =>
      e instanceof InputError && /^resnet18 on cifar10 at batch 256 needs about 9\.\d GiB/.test(e.message),
  );
  assertTrainingFits([{ arch: 'resnet18' }], 'gpu');
});
