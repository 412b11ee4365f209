import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { ResultRow } from '../query/index.ts';
import { sweepComparison } from '../run/tables.ts';
import { renderReport } from './html.ts';

/** Debian's Chromium (`.ci/run` installs it); the flags keep it off this machine's closed network. */
const CHROMIUM = process.env.ESWEEP_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const dir = mkdtempSync(join(tmpdir(), 'esweep-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A quickstart-shaped sweep with two seeds: five pruners × two types × three compressions on
 * LeNet-300-100; direct random/uniform disconnects, the others do not.
 */
function quickstartRows(): ResultRow[] {
  const rows: ResultRow[] = [];
  const pruners = ['random/uniform', 'random/erk', 'random/igq', 'snip', 'synflow'];
  pruners.forEach((pruner, p) => {
    for (const pruningType of ['direct', 'effective'] as const) {
      for (const target of [10, 100, 1000]) {
        for (const seed of [0, 1]) {
          const disconnect = pruningType === 'direct' && pruner === 'random/uniform' ? target / 8 : 1;
          rows.push({
            trialId: `${pruner}-${pruningType}-${target}-${seed}`,
            key: `${p}${pruningType[0]}${target}s${seed}`,
            arch: 'lenet300100',
            dataset: 'mnist',
            pruner,
            pruningType,
            targetSparsity: 1 - 1 / target,
            targetCompression: target,
            seed,
            status: 'completed',
            attempts: 1,
            error: null,
            accuracy: 0.98 - Math.log10(target) * (0.05 + p * 0.01) - seed * 0.01 * Math.log10(target),
            bestAccuracy: 0.98,
            loss: 0.1,
            seconds: 20,
            directSparsity: 1 - 1 / target,
            effectiveSparsity: 1 - 1 / (target * disconnect),
            directCompression: pruningType === 'direct' ? target : target / 1.5,
            effectiveCompression: pruningType === 'direct' ? target * disconnect : target,
            ranOn: { backend: 'wasm', device: 'test CPU', gpu: false },
            disconnected: false,
          });
        }
      }
    }
  });
  return rows;
}

test('the report opens in Chromium: every series distinguishable, bands drawn, nothing fetched (screenshot saved)', async () => {
  const results = quickstartRows();
  const html = await renderReport({
    sweep: { id: 'sweep1', name: 'quickstart', spec: { name: 'quickstart' }, createdAt: new Date() },
    results,
    comparison: sweepComparison(results),
    layers: results.flatMap((r) =>
      ['fc1', 'fc2', 'fc3'].map((name, idx) => ({
        trialId: r.trialId,
        idx,
        name,
        params: 1000,
        direct: 10,
        effective: 10 - idx * 3,
      })),
    ),
    trial: {
      row: results[0]!,
      curves: {
        'train/loss': [0, 100, 200].map((step) => ({ step, value: 2 / (step + 1) })),
        lr: [0, 100, 200].map((step) => ({ step, value: 0.1 })),
      },
    },
  });
  const page = join(dir, 'report.html');
  writeFileSync(page, html);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Every request the page makes is recorded, and any that is not the page itself is refused.
    const requests: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requests.push(url);
      return url === `file://${page}` ? route.continue() : route.abort();
    });
    const tab = await context.newPage();
    await tab.goto(`file://${page}`);
    assert.deepEqual(requests, [`file://${page}`], 'no request leaves the page');

    const figures = tab.locator('figure.chart');
    assert.deepEqual(await figures.evaluateAll((fs) => fs.map((f) => f.id)), [
      'accuracy',
      'compression',
      'layerwise-lenet300100',
      'curves',
    ]);
    for (let k = 0; k < 4; k++) {
      const box = await figures.nth(k).locator('svg').boundingBox();
      assert.ok(
        box && box.width > 300 && box.height > 150,
        `figure ${k} is laid out: ${JSON.stringify(box)}`,
      );
    }

    // The accuracy figure: one line per pruner and type, each with its own colour-and-dash pair;
    // a colour per pruner and a dash per type.
    const lines = await tab
      .locator('#accuracy g.mark-line path')
      .evaluateAll((ps) =>
        ps.map((p) => [p.getAttribute('stroke'), p.getAttribute('stroke-dasharray') ?? 'solid']),
      );
    assert.equal(lines.length, 10, 'five pruners × two types');
    assert.equal(new Set(lines.map((l) => l.join(' '))).size, 10, 'every series distinguishable');
    assert.equal(new Set(lines.map((l) => l[0])).size, 5, 'a colour per pruner');
    assert.equal(new Set(lines.map((l) => l[1])).size, 2, 'a dash per pruning type');
    // The ± std bands: one per series, drawn with an area (two seeds that differ).
    const bands = await tab
      .locator('#accuracy g.mark-area path')
      .evaluateAll((ps) =>
        ps.map((p) => (p as unknown as { getBBox(): { height: number } }).getBBox().height),
      );
    assert.equal(bands.length, 10);
    assert.ok(
      bands.filter((h) => h > 1).length >= 5,
      `bands have visible height: ${bands.map((h) => h.toFixed(1))}`,
    );
    // Hover values: every trial's point carries its numbers as a <title>.
    assert.equal(await tab.locator('#accuracy path > title').count(), results.length);
    // The legend names every pruner.
    const legend = await tab.locator('#accuracy g.role-legend-label text').allTextContents();
    for (const pruner of ['random/uniform', 'random/erk', 'random/igq', 'snip', 'synflow'])
      assert.ok(legend.includes(pruner), `legend has ${pruner}: ${legend}`);
    // The y = x line in the compression figure, and the comparison and claims.
    assert.equal(await tab.locator('#compression g.mark-line path[stroke="#888"]').count(), 1);
    assert.ok((await tab.locator('table.compare td .n').count()) > 0, 'n per cell');
    assert.ok((await tab.locator('div.claim').count()) >= 4, 'claims shown');
    assert.equal(await tab.locator('table.trials tr').count(), results.length + 1, 'one row per trial');

    const shot = join(dir, 'report.png');
    await tab.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000, 'the screenshot holds a rendered page');
    if (process.env.ESWEEP_SCREENSHOT)
      await tab.screenshot({ path: process.env.ESWEEP_SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
  }
});
