import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffCutoffs } from './decide.ts';

test('backoff cutoffs: one per attempt count while the delay doubles, the last for every count beyond', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const cutoffs = backoffCutoffs(now, 50, 200);
  assert.deepEqual(
    cutoffs.map((c) => [c.attempts, c.orMore, now - c.updatedBy.getTime()]),
    [
      [1, false, 50],
      [2, false, 100],
      [3, true, 200],
    ],
  );
  assert.deepEqual(
    backoffCutoffs(now, 0, 600_000).map((c) => [c.attempts, c.orMore, now - c.updatedBy.getTime()]),
    [[1, true, 0]],
    'no backoff: every retry is ready',
  );
});
