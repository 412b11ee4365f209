// A trial whose masks leave no path from input to output is recorded without training, flagged
// `disconnected`, with the constant predictor's accuracy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadDataset } from '../data/index.ts';
import type { Reporter, TrialResult } from '../report/reporter.ts';
import { constantPrediction } from '../train/constant.ts';
import { runTrial } from './run.ts';

function recorder(): { reporter: Reporter; kinds: string[] } {
  const kinds: string[] = [];
  const record = (kind: string) => async () => {
    kinds.push(kind);
  };
  return {
    kinds,
    reporter: {
      started: record('started'),
      sparsity: record('sparsity'),
      progress: record('progress'),
      metrics: record('metrics'),
      completed: record('completed'),
      failed: record('failed'),
    },
  };
}

test('a network with no path left is not trained and scores as the training labels’ majority class', async () => {
  const limit = 500;
  const { reporter, kinds } = recorder();
  // At direct ×1000, uniform per layer, no input-to-output path of LeNet-300-100 survives.
  const result: TrialResult = await runTrial(
    {
      arch: 'lenet300100',
      pruner: 'random/uniform',
      type: 'direct',
      compression: 1000,
      seed: 0,
      budget: { iterations: 50 },
      limit,
    },
    { reporter, backend: 'cpu' },
  );
  assert.equal(result.effective, 0);
  assert.equal(result.disconnected, true);
  assert.equal(result.steps, 0);
  assert.deepEqual(result.curve, []);
  assert.deepEqual(kinds, ['started', 'sparsity', 'completed']);
  const expected = constantPrediction(await loadDataset('mnist', { limit }));
  assert.equal(result.accuracy, expected.accuracy);
  assert.ok(result.accuracy > 0.05 && result.accuracy < 0.2, `accuracy ${result.accuracy}`);
});

test('a connected network trains and carries no disconnected flag', async () => {
  const { reporter, kinds } = recorder();
  const result = await runTrial(
    {
      arch: 'lenet300100',
      pruner: 'random/uniform',
      type: 'direct',
      compression: 10,
      seed: 0,
      budget: { iterations: 2 },
      limit: 200,
    },
    { reporter, backend: 'cpu' },
  );
  assert.ok(result.effective > 0);
  assert.equal(result.disconnected, undefined);
  assert.equal(result.steps, 2);
  assert.ok(kinds.includes('metrics'));
});
