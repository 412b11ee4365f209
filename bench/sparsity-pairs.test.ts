import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Clock, interleavedPairs, summarisePairs } from './sparsity-pairs.ts';

/** A clock that each run advances by its own cost: CPU `cost`, wall twice that. */
function fakeClock() {
  let cpu = 0;
  let wall = 0;
  const clock: Clock = { cpu: () => cpu, wall: () => wall };
  const spend = (ms: number) => {
    cpu += ms;
    wall += 2 * ms;
  };
  return { clock, spend };
}

test('pairs take turns, drop the warm-up pairs and time each side in CPU and wall time', () => {
  const { clock, spend } = fakeClock();
  const order: string[] = [];
  let run = 0;
  // Every run costs more than the one before, so that a dropped or swapped run shows.
  const side = (name: string) => () => {
    order.push(name);
    spend(++run);
  };
  const { cpu, wall } = interleavedPairs(
    { baseline: side('b'), subject: side('s') },
    { warmup: 2, pairs: 3 },
    clock,
  );
  assert.deepEqual(order, ['b', 's', 's', 'b', 'b', 's', 's', 'b', 'b', 's']);
  assert.deepEqual(cpu, [
    { baseline: 5, subject: 6 },
    { baseline: 8, subject: 7 },
    { baseline: 9, subject: 10 },
  ]);
  assert.deepEqual(
    wall,
    cpu.map((p) => ({ baseline: 2 * p.baseline, subject: 2 * p.subject })),
  );
});

test('the figure is the median of the pairs’ ratios, not the ratio of the medians', () => {
  const summary = summarisePairs([
    { baseline: 10, subject: 30 },
    { baseline: 40, subject: 40 },
    { baseline: 20, subject: 30 },
  ]);
  assert.deepEqual(summary, { baseline: 20, subject: 30, ratio: 1.5, range: [1, 3] });
});
