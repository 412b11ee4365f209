import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { ResultRow } from '../query/index.ts';
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

/** A quickstart-shaped sweep: five pruners × two types × three compressions on LeNet-300-100. */
function quickstartRows(): ResultRow[] {
  const rows: ResultRow[] = [];
  const pruners = ['random/uniform', 'random/erk', 'random/igq', 'snip', 'synflow'];
  pruners.forEach((pruner, p) => {
    for (const pruningType of ['direct', 'effective'] as const) {
      for (const target of [10, 100, 1000]) {
        const disconnect = pruningType === 'direct' && pruner === 'random/uniform' ? target / 8 : 1;
        rows.push({
          trialId: `${pruner}-${pruningType}-${target}`,
          key: `${p}${target}`,
          arch: 'lenet300100',
          dataset: 'mnist',
          pruner,
          pruningType,
          targetSparsity: 1 - 1 / target,
          targetCompression: target,
          seed: 0,
          status: 'completed',
          attempts: 1,
          error: null,
          accuracy: 0.98 - Math.log10(target) * (0.05 + p * 0.01),
          bestAccuracy: 0.98,
          loss: 0.1,
          seconds: 20,
          directSparsity: 1 - 1 / target,
          effectiveSparsity: 1 - 1 / (target * disconnect),
          directCompression: pruningType === 'direct' ? target : target / 1.5,
          effectiveCompression: pruningType === 'direct' ? target * disconnect : target,
        });
      }
    }
  });
  return rows;
}

test('the report opens in Chromium with its charts drawn (screenshot saved)', async () => {
  const results = quickstartRows();
  const html = renderReport({
    sweep: { id: 'sweep1', name: 'quickstart', spec: { name: 'quickstart' }, createdAt: new Date() },
    results,
    comparison: { metric: 'accuracy', archs: [] },
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
  });
  const page = join(dir, 'report.html');
  writeFileSync(page, html);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await tab.goto(`file://${page}`);
    const charts = tab.locator('svg.chart');
    assert.equal(await charts.count(), 3, 'three charts for one architecture');
    for (let k = 0; k < 3; k++) {
      const box = await charts.nth(k).boundingBox();
      assert.ok(box && box.width > 300 && box.height > 200, `chart ${k} is laid out: ${JSON.stringify(box)}`);
      assert.ok((await charts.nth(k).locator('circle').count()) >= 10, `chart ${k} has its points`);
    }
    assert.equal(
      await tab.locator('svg.chart g.series').first().getAttribute('data-series'),
      'random/erk (direct)',
    );
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
