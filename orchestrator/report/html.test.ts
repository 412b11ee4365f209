import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultRow } from '../query/test-support.ts';
import { renderReport } from './html.ts';

test('the report holds the three charts per architecture, the tables and the definition, escaped', () => {
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
  const html = renderReport({
    sweep: {
      id: 's1',
      name: 'quick<start>',
      spec: { pruners: ['synflow'] },
      createdAt: new Date('2026-11-28T00:00:00Z'),
    },
    results,
    comparison: {
      metric: 'accuracy',
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
                { compression: 10, mean: 0.97, std: 0, n: 1 },
                { compression: 100, mean: 0.95, std: 0, n: 1 },
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
  });
  assert.equal(html.match(/<svg /g)?.length, 3);
  assert.match(html, /test accuracy vs effective compression/);
  assert.match(html, /effective vs direct compression/);
  assert.match(html, /layerwise effective sparsity at compression 100/);
  // Both series of the accuracy chart, with their points (the infinite one is left out of the plot).
  assert.match(html, /data-series="synflow \(direct\)"/);
  assert.equal((html.match(/<circle /g) ?? []).length >= 5, true);
  assert.match(html, /<td>inf<\/td>/);
  assert.match(html, /95\.00/);
  assert.match(html, /quick&lt;start&gt;/);
  assert.match(html, /out of &lt;memory&gt;/);
  assert.ok(!html.includes('<script'));
});
