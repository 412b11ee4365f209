import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultRow } from '../query/test-support.ts';
import { renderReport } from './html.ts';

test('the report holds its figures, the comparison with n and gap marks, the claims, a trial and the definition, escaped', async () => {
  const results = [
    resultRow({
      trialId: 'a',
      pruner: 'synflow',
      targetCompression: 10,
      directCompression: 10,
      effectiveCompression: 10.2,
      accuracy: 0.97,
    }),
    resultRow({ trialId: 'b', pruner: 'synflow', targetCompression: 100 }),
    resultRow({
      trialId: 'c',
      pruner: 'random/uniform',
      targetCompression: 100,
      effectiveCompression: Number.POSITIVE_INFINITY,
      accuracy: 0.1,
    }),
    resultRow({
      trialId: 'd',
      pruner: 'random/uniform',
      pruningType: 'effective',
      status: 'failed',
      accuracy: null,
      error: 'out of <memory>',
    }),
  ];
  const html = await renderReport({
    sweep: {
      id: 's1',
      name: 'quick<start>',
      spec: { pruners: ['synflow'] },
      createdAt: new Date('2026-11-28T00:00:00Z'),
    },
    results,
    comparison: {
      metric: 'accuracy',
      maxGap: 2,
      archs: [
        {
          arch: 'lenet300100',
          grid: [10, 100],
          series: [
            {
              pruner: 'synflow',
              pruningType: 'direct',
              seeds: 1,
              points: [
                { compression: 10, mean: 0.97, std: 0, n: 1, gap: 1, wideGap: false },
                { compression: 100, mean: 0.95, std: 0, n: 1, gap: 10, wideGap: true },
              ],
            },
          ],
        },
      ],
    },
    layers: ['fc1', 'fc2', 'fc3'].map((name, idx) => ({
      trialId: 'b',
      idx,
      name,
      params: 1000,
      direct: 10,
      effective: 9,
    })),
    trial: {
      row: results[0]!,
      curves: { 'train/loss': [1, 2, 3].map((step) => ({ step, value: 1 / step })) },
    },
  });
  // accuracy, compression, layerwise (one architecture), the trial's curves
  assert.equal(html.match(/<svg /g)?.length, 4);
  assert.deepEqual(
    [...html.matchAll(/<figure class="chart" id="([^"]+)"/g)].map((m) => m[1]),
    ['accuracy', 'compression', 'layerwise-lenet300100', 'curves'],
  );
  // hover text on single trials, as SVG <title> (works without scripts)
  assert.match(html, /<title>synflow \(direct\), target ×10\.00, seed 0: accuracy 97\.00%/);
  // the infinite-compression trial is named in a caption instead of being plotted
  assert.match(html, /1 trials with nothing left connected/);
  // the comparison: a measured cell with its n, and the estimate across a 10× gap marked
  assert.match(html, /<td>97\.00 <span class="n">n=1<\/span><\/td>/);
  assert.match(
    html,
    /<td class="wide-gap" title="interpolated across a ×10\.00 gap between measurements">~95\.00 <span class="n">n=1<\/span><\/td>/,
  );
  assert.match(html, /gap wider than ×2\.00/);
  // claims: synflow's gap is decided on its direct trials (×10.2 / ×10, then ×111 / ×100 beyond 1.1)
  assert.match(html, /data-claim="synflow-gap"[^"]*"[^>]*><p><span class="verdict does-not-hold">/);
  assert.match(html, /the largest ratio is ×1\.11 at target ×100/);
  assert.match(html, /data-claim="random-uniform-gap"[^"]*"[^>]*><p><span class="verdict holds">/);
  assert.match(html, /<h2>Trial k<\/h2>/);
  assert.match(html, /<td>inf<\/td>/);
  assert.match(html, /quick&lt;start&gt;/);
  assert.match(html, /out of &lt;memory&gt;/);
  assert.ok(!html.includes('<script'));
});
