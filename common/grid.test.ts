import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logSpaced } from './grid.ts';

describe('logSpaced', () => {
  test('evenly spaced in log, both ends exact', () => {
    const grid = logSpaced(10, 10_000, 4);
    assert.equal(grid[0], 10);
    assert.equal(grid[3], 10_000);
    assert.deepEqual(
      grid.map((v) => Number(v.toPrecision(12))),
      [10, 100, 1000, 10_000],
    );
    const ratios = logSpaced(3, 300, 5).map((v, k, all) => (k === 0 ? 1 : v / all[k - 1]));
    for (const r of ratios.slice(1)) assert.ok(Math.abs(r - 100 ** 0.25) < 1e-12, `ratio ${r}`);
  });

  test('one point is the start; equal ends repeat', () => {
    assert.deepEqual(logSpaced(7, 7000, 1), [7]);
    assert.deepEqual(logSpaced(5, 5, 3), [5, 5, 5]);
  });
});
