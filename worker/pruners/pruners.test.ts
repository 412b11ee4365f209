import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../arch/zoo.ts';
import type { Dataset } from '../data/index.ts';
import { loadDataset } from '../data/index.ts';
import { initialWeights } from '../model/init.ts';
import { analyze } from '../sparsity/analysis.ts';
import { masksEqual } from '../sparsity/testing/tiny-networks.ts';
import { selectBackend } from '../tf/backend.ts';
import { pruner } from './catalog.ts';
import { prune } from './prune.ts';
import { defaultScoreBatches, pruneContext } from './setup.ts';

/** LeNet-300-100 on real MNIST, the paper's setting for these claims. */
describe("pruners on LeNet-300-100 (the paper's claims)", () => {
  const arch = architecture('lenet300100');
  let mnist: Dataset;
  before(async () => {
    await selectBackend('wasm');
    mnist = await loadDataset('mnist', { limit: 2000 });
  });
  after(() => tf.disposeVariables());

  const run = async (name: string, sparsity: number, type: 'direct' | 'effective', seed = 1) => {
    // "Trained" weights for magnitude/LAMP: any fixed weights exercise the same selection code.
    const ctx = await pruneContext({
      arch,
      pruner: pruner(name),
      seed,
      dataset: mnist,
      scoreBatches: 1,
      trainedWeights: initialWeights(arch, 1000 + seed),
    });
    try {
      return await prune(ctx, pruner(name), { sparsity, type });
    } finally {
      ctx.dispose();
    }
  };

  test('SynFlow loses (almost) nothing to disconnection at compressions 10, 100, 1000', async () => {
    for (const compression of [10, 100, 1000]) {
      const report = analyze(arch, await run('synflow', 1 - 1 / compression, 'direct'));
      assert.ok(Math.abs(report.directCompression / compression - 1) < 1e-3);
      assert.ok(
        report.effective >= 0.995 * report.direct,
        `${report.effective} of ${report.direct} at ${compression}`,
      );
    }
  });

  test('random/uniform at direct compression 100: effective compression ≥ 5× direct (mean of 3 seeds)', async () => {
    const ratios = [];
    for (const seed of [1, 2, 3]) {
      const report = analyze(arch, await run('random/uniform', 0.99, 'direct', seed));
      ratios.push(Math.min(report.effectiveCompression, 1e9) / report.directCompression);
    }
    assert.ok(ratios.reduce((a, b) => a + b) / 3 >= 5, `ratios ${ratios}`);
  });

  const FAMILIES = [
    'random/uniform',
    'random/erk',
    'random/igq',
    'random/snip',
    'random/synflow',
    'magnitude/global',
    'magnitude/igq',
    'lamp',
    'snip',
    'snip/iterative',
    'synflow',
    'grasp',
  ];
  for (const name of FAMILIES) {
    test(`${name} --type effective reaches effective compression 10, 100, 1000 within 1%`, async () => {
      for (const compression of [10, 100, 1000]) {
        const report = analyze(arch, await run(name, 1 - 1 / compression, 'effective'));
        const error = Math.abs(report.effectiveCompression / compression - 1);
        assert.ok(
          error <= 0.01,
          `${name} at ${compression}: effective compression ${report.effectiveCompression}`,
        );
      }
    });
  }

  for (const name of ['random/igq', 'snip', 'synflow', 'grasp']) {
    test(`${name}: same seed ⇒ identical masks, different seed ⇒ different masks`, async () => {
      const a = await run(name, 0.99, 'direct', 7);
      const b = await run(name, 0.99, 'direct', 7);
      const c = await run(name, 0.99, 'direct', 8);
      assert.ok(masksEqual(a, b));
      assert.ok(!masksEqual(a, c));
    });
  }

  test('impossible targets are input errors', async () => {
    await assert.rejects(run('random/uniform_plus', 0.9, 'direct'), /convolutional networks only/);
    await assert.rejects(
      run('random/igq', 1 - 1 / 1e6, 'direct'),
      /compression 1000000 exceeds lenet300100's 266200/,
    );
    await assert.rejects(run('dense', 0.5, 'direct'), /dense pruner keeps every weight/);
  });
});

test('pruneContext scores on ≈ 10 examples per class by default, in batches of 128 or the size given', async () => {
  assert.equal(defaultScoreBatches(10, 100), 1);
  assert.equal(defaultScoreBatches(100, 128), 8);
  assert.equal(defaultScoreBatches(200, 256), 8);
  const setup = { arch: architecture('vgg19'), pruner: pruner('random/igq'), seed: 0 };
  // `esweep prune` gives no batch size; a trial gives its training batch size.
  for (const [scoreBatchSize, batches] of [
    [undefined, 8],
    [256, 4],
  ] as const) {
    const ctx = await pruneContext({ ...setup, scoreBatchSize });
    try {
      assert.equal(ctx.arch.classes, 100);
      assert.equal(ctx.scoreBatches, batches);
    } finally {
      ctx.dispose();
    }
  }
});
