// `esweep run` end to end on this machine (real workers, embedded database): interrupting it and
// running it again resumes — the finished trial is not run again and the sweep completes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../cli/run-cli.ts';
import { openDatabase } from '../store/database.ts';
import { runSweepLocally } from './local.ts';

const SWEEP = `name: resume-test
architectures: [lenet300100]
pruners: [random/uniform]
types: [direct]
compressions: [10, 100]
budget: {iterations: 10}
resources: {gpu: 0}
maxParallel: 1
`;

describe('esweep run', () => {
  it('resumes after an interruption without rerunning finished trials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-run-'));
    try {
      const file = join(dir, 'sweep.yaml');
      writeFileSync(file, SWEEP);
      const home = join(dir, '.esweep');

      // First run: stop it as soon as one trial has completed.
      const stop = new AbortController();
      const lines: string[] = [];
      const first = await runSweepLocally(file, {
        home,
        refreshMs: 200,
        signal: stop.signal,
        progress: {
          write: (text: string) => {
            lines.push(text);
            if (/ 1\/2 done/.test(text)) stop.abort();
          },
        },
      });
      assert.equal(first.finished, false);
      assert.equal(first.counts.completed, 1);
      assert.equal(first.counts.pending, 1, 'the interrupted trial is back to pending');
      assert.match(lines.join(''), /resume-test: 0\/2 done/);
      const done = first.results.find((r) => r.status === 'completed')!;

      const second = await runSweepLocally(file, { home, refreshMs: 200, progress: { write: () => true } });
      assert.equal(second.finished, true);
      assert.equal(second.addedTrials, 0);
      assert.equal(second.counts.completed, 2);
      assert.ok(second.report && existsSync(second.report));
      assert.ok(second.results.every((r) => r.accuracy !== null && r.effectiveCompression! >= 10));
      // Provenance: each attempt recorded where it ran (the worker's backend and this machine's CPU).
      const cpuModel = cpus()[0]?.model.trim();
      for (const r of second.results) {
        assert.ok(
          r.ranOn && ['wasm', 'cpu'].includes(r.ranOn.backend),
          `ran on a CPU backend: ${r.ranOn?.backend}`,
        );
        assert.equal(r.ranOn.gpu, false);
        if (cpuModel) assert.equal(r.ranOn.device, cpuModel);
      }
      assert.deepEqual(second.comparison.archs[0]?.grid, [10, 100], 'compared at the target compressions');

      const db = await openDatabase(`pglite:${join(home, 'db')}`);
      try {
        const again = await db.prisma.trial.findUniqueOrThrow({ where: { id: done.trialId } });
        assert.equal(again.attempts, 1, 'the completed trial ran once');
        const points = await db.prisma.metricPoint.count({ where: { trialId: done.trialId } });
        assert.ok(points > 0, 'its curve was ingested');
      } finally {
        await db.close();
      }

      // The recorded sweep, read back through the CLI from the same embedded database.
      const database = `pglite:${join(home, 'db')}`;
      const out = join(dir, 'report.html');
      const report = await runCli(['sweep', 'report', 'resume-test', '--database', database, '--out', out]);
      assert.equal(report.code, 0, report.stderr);
      const html = readFileSync(out, 'utf8');
      assert.equal(html.match(/<svg /g)?.length, 4, "the report has its three figures and a trial's curves");
      assert.match(html, /<th>ran on<\/th>/, 'the trial table says where each trial ran');
      assert.match(
        html,
        new RegExp(`<td>${second.results[0]!.ranOn!.backend} \\(`),
        'with backend and device',
      );
      assert.match(
        html,
        /effective compression<\/th><th>×10\.00<\/th><th>×100\.0<\/th><\/tr>/,
        'the same grid',
      );
      const results = await runCli(['sweep', 'results', 'resume-test', '--database', database, '--json']);
      assert.equal(results.code, 0, results.stderr);
      const rows = JSON.parse(results.stdout).results as { status: string }[];
      assert.deepEqual(
        rows.map((r) => r.status),
        ['completed', 'completed'],
      );
      const compare = await runCli(['sweep', 'compare', 'resume-test', '--database', database, '--json']);
      assert.equal(compare.code, 0, compare.stderr);
      const compared = JSON.parse(compare.stdout).archs as { grid: number[] }[];
      assert.deepEqual(
        compared.map((a) => a.grid),
        [[10, 100]],
        'one architecture compared, on the grid esweep run used',
      );
      const unknown = await runCli([
        'sweep',
        'report',
        'no-such-sweep',
        '--database',
        database,
        '--out',
        out,
      ]);
      assert.equal(unknown.code, 2);
      assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
