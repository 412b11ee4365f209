// compareResults on fixture rows: no database, the rows as sweepResults would return them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResults } from './compare.ts';
import { resultRow } from './test-support.ts';

const close = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(actual != null && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

describe('compareResults', () => {
  const rows = [
    resultRow({ arch: 'lenet5', pruner: 'snip', effectiveCompression: 10, accuracy: 0.6, loss: 1 }),
    resultRow({ arch: 'lenet5', pruner: 'snip', effectiveCompression: 1000, accuracy: 0.4, loss: 2 }),
    // synflow on lenet300100, seed 0: 0.9 at ×10 and 0.5 at ×1000 (0.7 at ×100 on log-compression)
    resultRow({ seed: 0, effectiveCompression: 10, accuracy: 0.9 }),
    resultRow({ seed: 0, effectiveCompression: 1000, accuracy: 0.5 }),
    // seed 1: 0.8 at ×10, two runs at ×100 averaged to 0.62, nothing beyond
    resultRow({ seed: 1, effectiveCompression: 10, accuracy: 0.8 }),
    resultRow({ seed: 1, effectiveCompression: 100, accuracy: 0.6 }),
    resultRow({ seed: 1, effectiveCompression: 100, accuracy: 0.64 }),
    // not completed, and a disconnected network: neither enters a curve
    resultRow({ seed: 2, status: 'running', accuracy: null, bestAccuracy: null, effectiveCompression: 50 }),
    resultRow({ pruner: 'random/uniform', effectiveCompression: Number.POSITIVE_INFINITY, accuracy: 0.1 }),
    resultRow({
      pruner: 'magnitude/global',
      pruningType: 'effective',
      effectiveCompression: 10,
      accuracy: 0.85,
    }),
  ];

  it('averages each seed’s curve at the grid points: mean ± std over the seeds that reach them', () => {
    const comparison = compareResults(rows, { grid: [10, 100, 1000, 10_000] });
    assert.equal(comparison.metric, 'accuracy');
    assert.deepEqual(
      comparison.archs.map((a) => a.arch),
      ['lenet300100', 'lenet5'],
    );
    const [lenet300, lenet5] = comparison.archs;
    assert.deepEqual(lenet300!.grid, [10, 100, 1000, 10_000]);
    assert.deepEqual(
      lenet300!.series.map((s) => [s.pruner, s.pruningType, s.seeds]),
      [
        ['magnitude/global', 'effective', 1],
        ['synflow', 'direct', 2],
      ],
    );
    const synflow = lenet300!.series[1]!.points;
    close(synflow[0]!.mean, 0.85, 'mean at ×10');
    close(synflow[0]!.std, Math.abs(0.9 - 0.8) / Math.SQRT2, 'std at ×10');
    assert.equal(synflow[0]!.n, 2);
    close(synflow[1]!.mean, (0.7 + 0.62) / 2, 'mean at ×100');
    assert.equal(synflow[1]!.n, 2);
    assert.deepEqual(synflow[2], { compression: 1000, mean: 0.5, std: 0, n: 1, gap: 1, wideGap: false });
    assert.deepEqual(synflow[3], {
      compression: 10_000,
      mean: null,
      std: null,
      n: 0,
      gap: null,
      wideGap: false,
    });
    assert.deepEqual(
      lenet5!.series[0]!.points.map((p) => p.n),
      [1, 1, 1, 0],
    );
  });

  it('spans the observed range by default and compares any metric', () => {
    const lenet5 = compareResults(rows, { metric: 'loss', points: 3 }).archs.find(
      (a) => a.arch === 'lenet5',
    )!;
    assert.deepEqual(
      lenet5.grid.map((c) => Math.round(c)),
      [10, 100, 1000],
    );
    const [at10, at100, at1000] = lenet5.series[0]!.points;
    close(at10!.mean, 1, 'loss at ×10');
    close(at100!.mean, 1.5, 'loss at ×100');
    close(at1000!.mean, 2, 'loss at ×1000');
  });

  it('leaves out trials that have not completed, whatever the metric', () => {
    const pending = rows.map((r) => ({ ...r, status: 'running' as const, accuracy: null }));
    assert.deepEqual(compareResults(pending, { metric: 'loss' }), { metric: 'loss', maxGap: 2, archs: [] });
  });

  it('flags a value interpolated across a gap wider than maxGap, and not one read at a measurement', () => {
    const comparison = compareResults(rows, { grid: [10, 100, 1000] });
    assert.equal(comparison.maxGap, 2);
    const synflow = comparison.archs[0]!.series[1]!.points;
    // ×10: both seeds measured there.
    assert.deepEqual([synflow[0]!.gap, synflow[0]!.wideGap], [1, false]);
    // ×100: seed 1 measured, seed 0 read between ×10 and ×1000 (a 100× gap).
    close(synflow[1]!.gap, 100, 'gap at ×100');
    assert.equal(synflow[1]!.wideGap, true);
    // A looser limit accepts it; the value itself does not change.
    const loose = compareResults(rows, { grid: [10, 100, 1000], maxGap: 200 }).archs[0]!.series[1]!.points;
    assert.equal(loose[1]!.wideGap, false);
    assert.equal(loose[1]!.mean, synflow[1]!.mean);
  });

  it('counts a measurement within 5 % of a grid compression as taken there', () => {
    const near = [
      resultRow({ effectiveCompression: 10, accuracy: 0.9 }),
      resultRow({ effectiveCompression: 103, accuracy: 0.7 }),
      resultRow({ effectiveCompression: 1000, accuracy: 0.5 }),
    ];
    const [at100, at300] = compareResults(near, { grid: [100, 300] }).archs[0]!.series[0]!.points;
    assert.deepEqual([at100!.gap, at100!.wideGap], [1, false]);
    close(at300!.gap, 1000 / 103, 'gap at ×300');
    assert.equal(at300!.wideGap, true);
  });
});
