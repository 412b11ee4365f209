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
    { warmup: 2, pairs: 4 },
    clock,
  );
  assert.deepEqual(order, ['b', 's', 's', 'b', 'b', 's', 's', 'b', 'b', 's', 's', 'b']);
  assert.deepEqual(cpu, [
    { baseline: 5, subject: 6 },
    { baseline: 8, subject: 7 },
    { baseline: 9, subject: 10 },
    { baseline: 12, subject: 11 },
  ]);
  assert.deepEqual(
    wall,
    cpu.map((p) => ({ baseline: 2 * p.baseline, subject: 2 * p.subject })),
  );
});

test('odd counts are refused: blocks pair the two orders', () => {
  const run = () => interleavedPairs({ baseline: () => 0, subject: () => 0 }, { warmup: 1, pairs: 4 });
  assert.throws(run, /even/);
  assert.throws(
    () => interleavedPairs({ baseline: () => 0, subject: () => 0 }, { warmup: 0, pairs: 3 }),
    /even/,
  );
});

test('the figure is the median over blocks of two pairs of the block’s subject / baseline CPU', () => {
  // A collection falls on every other subject run: single pairs alternate 1× and 3×, blocks say 2×.
  const pairs = [
    { baseline: 10, subject: 10 },
    { baseline: 10, subject: 30 },
    { baseline: 20, subject: 20 },
    { baseline: 20, subject: 60 },
    { baseline: 10, subject: 10 },
    { baseline: 10, subject: 50 },
  ];
  assert.deepEqual(summarisePairs(pairs), { baseline: 10, subject: 25, ratio: 2, range: [2, 3] });
});
