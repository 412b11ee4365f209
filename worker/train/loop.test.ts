import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../arch/zoo.ts';
import { loadDataset } from '../data/index.ts';
import { cifarRecords, writeMnistFormat } from '../data/test-fixtures.ts';
import { initialWeights } from '../model/init.ts';
import { Model } from '../model/model.ts';
import { Rng, randomMask } from '../random.ts';
import type { MetricsEvent, ProgressEvent } from '../report/reporter.ts';
import { selectBackend } from '../tf/backend.ts';
import { TrainingInterrupted, train } from './loop.ts';
import { trainingPlan } from './settings.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'esweep-train-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
writeMnistFormat(join(dataDir, 'fashion-mnist'), { train: 40, test: 20 });
const cifarDir = join(dataDir, 'cifar-10-batches-bin');
mkdirSync(cifarDir);
for (let b = 1; b <= 5; b++) {
  writeFileSync(
    join(cifarDir, `data_batch_${b}.bin`),
    cifarRecords(
      b * 8,
      Array.from({ length: 8 }, (_, k) => [k % 10]),
    ),
  );
}
writeFileSync(
  join(cifarDir, 'test_batch.bin'),
  cifarRecords(
    0,
    Array.from({ length: 10 }, (_, k) => [k]),
  ),
);

/** Random masks keeping about a third of every layer. */
function masksFor(archName: string, dataset: string): Uint8Array[] {
  const rng = new Rng(11);
  return architecture(archName, dataset).layers.map((layer) =>
    randomMask(layer.params, Math.ceil(layer.params / 3), rng),
  );
}

for (const [archName, dataset] of [
  ['lenet300100', 'fashion-mnist'],
  ['lenet5', 'cifar10'],
] as const) {
  test(`${archName}: every pruned weight is exactly 0 after training, the kept ones moved`, async () => {
    await selectBackend('wasm');
    const arch = architecture(archName, dataset);
    const data = await loadDataset(dataset, { dataDir });
    const plan = trainingPlan(archName, data.train.count, {
      budget: { iterations: 6 },
      overrides: { batchSize: 10 },
      augment: data.augmentation !== null,
    });
    const masks = masksFor(archName, dataset);
    const initial = initialWeights(arch, 0);
    const model = new Model(arch, initial);
    const progress: ProgressEvent[] = [];
    const metrics: MetricsEvent[] = [];
    const outcome = await train(model, masks, data, {
      plan,
      seed: 0,
      evalEvery: 4,
      progressEveryMs: 0,
      observer: {
        progress: async (e) => {
          progress.push(e);
        },
        metrics: async (e) => {
          metrics.push(e);
        },
      },
    });
    const final = model.weights();
    model.dispose();
    assert.equal(outcome.steps, 6);
    assert.deepEqual(
      outcome.curve.map((p) => p.step),
      [4, 6],
      'evaluated every 4 steps and at the end',
    );
    assert.equal(progress.at(-1)?.step, 6);
    assert.deepEqual(
      metrics[0].points.map((p) => p.name),
      ['train/loss', 'test/accuracy', 'test/loss', 'lr'],
    );
    masks.forEach((mask, k) => {
      let moved = 0;
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] === 0) assert.ok(final[k][i] === 0, `${arch.layers[k].name}[${i}] = ${final[k][i]}`);
        else if (final[k][i] !== initial[k][i]) moved++;
      }
      assert.ok(moved > 0, `${arch.layers[k].name}: no kept weight was trained`);
    });
  });
}

test('an aborted signal stops training between steps with TrainingInterrupted', async () => {
  await selectBackend('wasm');
  const data = await loadDataset('fashion-mnist', { dataDir });
  const arch = architecture('lenet300100', 'fashion-mnist');
  const model = new Model(arch, initialWeights(arch, 0));
  const controller = new AbortController();
  const before = tf.memory().numTensors;
  await assert.rejects(
    train(model, masksFor('lenet300100', 'fashion-mnist'), data, {
      plan: trainingPlan('lenet300100', data.train.count, {
        budget: { iterations: 1000 },
        overrides: { batchSize: 10 },
        augment: false,
      }),
      seed: 0,
      evalEvery: 1000,
      progressEveryMs: 0,
      signal: controller.signal,
      observer: {
        progress: async (e) => {
          if (e.step === 3) controller.abort();
        },
        metrics: async () => {},
      },
    }),
    (error: unknown) => error instanceof TrainingInterrupted && error.step === 3,
  );
  assert.equal(tf.memory().numTensors, before, 'the trainer released its tensors');
  model.dispose();
});
