import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Comparison, ResultRow } from '../query/index.ts';
import { resultRow } from '../query/test-support.ts';
import { comparisonText, resultsCsv, resultsText, targetGrid } from './tables.ts';

/** A completed random/igq effective trial that reached 100× effective from 66.7× direct. */
const row = (overrides: Partial<ResultRow>) =>
  resultRow({
    trialId: 't1',
    key: 'k1',
    pruner: 'random/igq',
    pruningType: 'effective',
    accuracy: 0.9312,
    bestAccuracy: 0.94,
    directCompression: 66.7,
    effectiveCompression: 100,
    ...overrides,
  });

test('CSV: a header, one line per trial, quoting where needed, empty for null, inf for ∞', () => {
  const csv = resultsCsv([
    row({}),
    row({
      trialId: 't2',
      status: 'failed',
      error: 'exit code 1: "out of memory", twice\nthen gave up',
      accuracy: null,
      effectiveCompression: Number.POSITIVE_INFINITY,
    }),
  ]);
  const [header, first, second, end] = csv.split(/\n(?=t\d,|$)/);
  assert.equal(header.split(',')[0], 'trialId');
  assert.equal(header.split(',').length, 24);
  assert.match(header, /,effectiveCompression,disconnected,error,backend,device,gpu$/);
  assert.equal(first.split(',').length, 24);
  assert.match(first, /^t1,k1,lenet300100,mnist,random\/igq,effective,0\.99,100,0,completed,1,0\.9312,/);
  assert.match(second, /,failed,1,,0\.94,/);
  assert.match(
    second,
    /,66\.7,inf,false,"exit code 1: ""out of memory"", twice\nthen gave up",wasm,test CPU,false$/,
  );
  assert.equal(end, '');
});

test('results table: compressions, accuracy in percent, a failed trial shows its error', () => {
  const text = resultsText([row({}), row({ status: 'failed', error: 'pod evicted', accuracy: null })]);
  const lines = text.trim().split('\n');
  assert.match(lines[0], /arch\s+pruner\s+type\s+target\s+seed\s+direct\s+effective\s+accuracy\s+state/);
  assert.ok(
    lines.some((l) => /random\/igq\s+effective\s+100\.0\s+0\s+66\.70\s+100\.0\s+93\.12%\s+completed/.test(l)),
    text,
  );
  assert.ok(
    lines.some((l) => /–\s+failed: pod evicted/.test(l)),
    text,
  );
});

test('the comparison grid is the sweep design points (dense excluded), and the table marks gaps', () => {
  const grid = targetGrid([
    row({ targetCompression: 1000 }),
    row({ targetCompression: 10 }),
    row({ targetCompression: 10, seed: 1 }),
    row({ pruner: 'dense', targetCompression: 1 }),
  ]);
  assert.deepEqual(grid, [10, 1000]);
  const comparison: Comparison = {
    metric: 'accuracy',
    maxGap: 2,
    archs: [
      {
        arch: 'lenet300100',
        grid,
        series: [
          {
            pruner: 'synflow',
            pruningType: 'direct',
            seeds: 2,
            points: [
              { compression: 10, mean: 0.98, std: 0.004, n: 2, gap: 1, wideGap: false },
              { compression: 1000, mean: 0.5744, std: 0, n: 1, gap: 15.8, wideGap: true },
            ],
          },
          {
            pruner: 'dense',
            pruningType: 'direct',
            seeds: 1,
            points: [
              { compression: 10, mean: null, std: null, n: 0, gap: null, wideGap: false },
              { compression: 1000, mean: null, std: null, n: 0, gap: null, wideGap: false },
            ],
          },
        ],
      },
    ],
  };
  const text = comparisonText(comparison);
  assert.match(text, /lenet300100: pruner \(type\)\s+×10\.00\s+×1000\.0/);
  // n per cell; the value bridged across a 15.8× gap is marked as an estimate.
  assert.match(text, /synflow \(direct\)\s+98\.00% ±0\.4 n=2\s+~57\.44% n=1/);
  assert.match(text, /~ = interpolated across a gap wider than ×2/);
  assert.doesNotMatch(text, /dense/);
});
