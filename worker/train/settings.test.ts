import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { parseInput } from '../../common/validation.ts';
import { Budget, learningRateAt, REFERENCE_SETTINGS, trainingPlan } from './settings.ts';

test('without a budget the plan is the reference schedule (docs/science.md)', () => {
  const plan = trainingPlan('resnet18', 100_000, { augment: true });
  assert.equal(plan.iterations, 78_200);
  assert.deepEqual(plan.drops, [39_100, 58_650]);
  assert.equal(plan.batchSize, 256);
  assert.equal(plan.learningRate, 0.2);
  assert.equal(plan.weightDecay, 1e-4);
  assert.equal(plan.momentum, 0.9);
  assert.deepEqual(REFERENCE_SETTINGS.vgg19, REFERENCE_SETTINGS.vgg16);
});

test('an epoch budget counts whole batches and moves the drops in proportion', () => {
  // 60,000 / 100 = 600 steps per epoch; 3 epochs = 1800 of the reference 96,000.
  const plan = trainingPlan('lenet300100', 60_000, { budget: { epochs: 3 }, augment: false });
  assert.equal(plan.stepsPerEpoch, 600);
  assert.equal(plan.iterations, 1800);
  assert.deepEqual(plan.drops, [469, 938, 1406]);
  const half = trainingPlan('lenet300100', 60_050, { budget: { epochs: 0.5 }, augment: false });
  assert.equal(half.stepsPerEpoch, 600, 'a final partial batch is dropped');
  assert.equal(half.iterations, 300);
});

test('an iteration budget is taken as is; the batch never exceeds the training set', () => {
  const plan = trainingPlan('vgg16', 10, { budget: { iterations: 625 }, augment: true });
  assert.equal(plan.iterations, 625);
  assert.deepEqual(plan.drops, [313, 469]);
  assert.equal(plan.batchSize, 10);
  assert.equal(plan.stepsPerEpoch, 1);
});

test('overrides replace only what they name', () => {
  const plan = trainingPlan('lenet5', 1000, { overrides: { learningRate: 0.05 }, augment: false });
  assert.equal(plan.learningRate, 0.05);
  assert.equal(plan.batchSize, 128);
  assert.equal(plan.weightDecay, 5e-4);
});

test('the learning rate drops ×0.1 at each drop point', () => {
  const plan = trainingPlan('lenet300100', 60_000, { budget: { iterations: 96 }, augment: false });
  assert.deepEqual(plan.drops, [25, 50, 75]);
  const rates = [0, 24, 25, 49, 50, 75, 95].map((step) => learningRateAt(plan, step));
  const expected = [0.1, 0.1, 0.01, 0.01, 0.001, 0.0001, 0.0001];
  rates.forEach((rate, k) => {
    assert.ok(Math.abs(rate - expected[k]) < 1e-12, `step ${k}: ${rate}`);
  });
});

test('an empty training set is bad input', () => {
  assert.throws(() => trainingPlan('lenet5', 0, { augment: false }), InputError);
});

test('a bad budget is one line naming the field once', () => {
  const rejects = (budget: unknown, message: string) =>
    assert.throws(() => parseInput(z.strictObject({ budget: Budget }), { budget }, 'trial'), {
      name: 'InputError',
      message,
    });
  rejects({ epochs: 0 }, 'trial: budget.epochs: must be > 0, got 0');
  rejects({ iterations: 0 }, 'trial: budget.iterations: must be ≥ 1, got 0');
  rejects({ iterations: 2.5 }, 'trial: budget.iterations: must be a whole number, got 2.5');
  rejects(
    { epochs: 1, iterations: 5 },
    'trial: budget: must be {epochs: N} or {iterations: N}, got {"epochs":1,"iterations":5}',
  );
});
