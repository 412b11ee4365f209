/** The conv paths train: short VGG-16 and ResNet-18 trials on wasm, on generated data in the real formats. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cifarRecords, writeTinyImageNet } from '../data/test-fixtures.ts';
import type { Reporter } from '../report/reporter.ts';
import { runTrial } from './run.ts';
import { parseTrial } from './spec.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'esweep-conv-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
const cifarDir = join(dataDir, 'cifar-10-batches-bin');
mkdirSync(cifarDir);
for (let b = 1; b <= 5; b++) {
  writeFileSync(join(cifarDir, `data_batch_${b}.bin`), cifarRecords(b, [[b % 10]]));
}
writeFileSync(join(cifarDir, 'test_batch.bin'), cifarRecords(0, [[3], [7]]));
writeTinyImageNet(join(dataDir, 'tiny-imagenet-200'), 1, 2);

const silent: Reporter = {
  started: async () => {},
  sparsity: async () => {},
  progress: async () => {},
  metrics: async () => {},
  completed: async () => {},
  failed: async () => {},
};

for (const [arch, pruner, limit] of [
  ['vgg16', 'random/erk', 4],
  ['resnet18', 'random/igq', 2],
] as const) {
  test(`${arch} trains on wasm: the training loss falls over a few steps`, async () => {
    const spec = parseTrial({
      arch,
      pruner,
      sparsity: 0.5,
      seed: 0,
      budget: { iterations: 4 },
      evalEvery: 1,
      limit,
      batchSize: limit,
      // The reference rates (0.1, 0.2) overshoot on a batch this small; the point is that it learns.
      learningRate: 0.01,
      augment: false,
    });
    const result = await runTrial(spec, { reporter: silent, backend: 'wasm', dataDir });
    assert.equal(result.backend, 'wasm');
    assert.equal(result.steps, 4);
    const losses = result.curve.map((point) => point.loss);
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses[3] < losses[0], `loss did not fall: ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
    assert.ok(Math.abs(result.directSparsity - 0.5) < 1e-3);
  });
}
