import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { architecture } from '../arch/zoo.ts';
import { initialWeights } from '../model/init.ts';
import { analyze } from '../sparsity/analysis.ts';
import { selectBackend } from '../tf/backend.ts';
import { pruner, randomWithQuotasOf } from './catalog.ts';
import { iterative, snipScores, synflowScores } from './gradient-pruners.ts';
import { prune } from './prune.ts';
import type { Pruner } from './pruner.ts';
import { pruneContext } from './setup.ts';
import { randomDataset } from './testing.ts';

/**
 * `--type effective` on VGG-16 at compression 100 for every pruner family. Iterative pruners run
 * 10 rounds instead of 100/300 here (the search is the same code; their full schedules are
 * exercised on LeNet-300-100), and data-driven scores read one small batch of random images.
 */
const arch = architecture('vgg16');
const dataset = randomDataset(arch, 8, 2);
before(() => selectBackend('wasm'));
after(() => tf.disposeVariables());

const synflow10 = iterative('synflow', [], 10, synflowScores);
const families: Pruner[] = [
  pruner('random/uniform'),
  pruner('random/erk'),
  pruner('random/igq'),
  pruner('random/uniform_plus'),
  pruner('magnitude/global'),
  pruner('magnitude/uniform_plus'),
  pruner('lamp'),
  pruner('snip'),
  pruner('grasp'),
  pruner('random/snip'),
  synflow10,
  randomWithQuotasOf(synflow10),
  iterative('snip/iterative', ['data'], 10, snipScores),
];

for (const algorithm of families) {
  test(`vgg16: ${algorithm.name} --type effective reaches effective compression 100 within 1%`, async () => {
    const ctx = await pruneContext({
      arch,
      pruner: algorithm,
      seed: 3,
      dataset,
      scoreBatches: 1,
      scoreBatchSize: 8,
      trainedWeights: initialWeights(arch, 99),
    });
    try {
      const report = analyze(arch, await prune(ctx, algorithm, { sparsity: 0.99, type: 'effective' }));
      const error = Math.abs(report.effectiveCompression / 100 - 1);
      assert.ok(error <= 0.01, `effective compression ${report.effectiveCompression}`);
      assert.ok(report.directCompression <= report.effectiveCompression);
    } finally {
      ctx.dispose();
    }
  });
}
