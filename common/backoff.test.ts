import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, backoffDelay } from './backoff.ts';

test('backoffDelay doubles from the initial delay and stops at the cap', () => {
  const policy = { initialMs: 100, maxMs: 1000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n)),
    [0, 100, 200, 400, 800, 1000, 1000],
  );
});

test('jitter draws within [0, delay]', () => {
  const policy = { initialMs: 100, maxMs: 1000, jitter: true };
  assert.equal(
    backoffDelay(policy, 3, () => 0),
    0,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.5),
    200,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0.999),
    399,
  );
});

test('Backoff counts retries and starts over after reset', () => {
  const backoff = new Backoff({ initialMs: 50, maxMs: 5000 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [50, 100, 200]);
  assert.equal(backoff.count, 3);
  backoff.reset();
  assert.equal(backoff.next(), 50);
});
