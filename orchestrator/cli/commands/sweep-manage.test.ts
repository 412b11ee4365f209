// `esweep sweep status|retry|cancel` through the real binary, on a sweep in Postgres whose trials the
// test puts in every state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../../test/fake-kube/support.ts';
import { ESWEEP_BIN } from '../../project-root.ts';
import type { SweepProgress } from '../../run/progress.ts';
import { createTestDatabase, seedSweep, type TestDatabase } from '../../store/test-support.ts';
import { runCli } from '../run-cli.ts';

describe('esweep sweep status, retry and cancel', () => {
  let db: TestDatabase;
  let trialIds: string[] = [];
  const name = 'manage-me';
  const cli = (...args: string[]) => runCli(['sweep', ...args, '--database', db.url]);
  const status = async () => {
    const result = await cli('status', name, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as SweepProgress;
  };

  before(async () => {
    db = await createTestDatabase('sweep_manage');
    ({ trialIds } = await seedSweep(db.store, 6, name));
    // Trials 0–3 get an attempt: 0 completes after 40 s, 1 fails for good, 2 runs, 3 waits in the queue.
    await db.store.startAttempts(
      trialIds.slice(0, 4).map((trialId) => ({ trialId, attempts: 0, jobName: null })),
    );
    await db.store.markTrials([
      { trialId: trialIds[0], status: 'completed' },
      { trialId: trialIds[1], status: 'failed', error: 'exit code 1', retryable: false },
      { trialId: trialIds[2], status: 'running' },
    ]);
    const finishedAt = new Date();
    await db.prisma.trial.update({
      where: { id: trialIds[0] },
      data: { startedAt: new Date(finishedAt.getTime() - 40_000), finishedAt },
    });
  });
  after(() => db.dispose());

  test('status: counts by state, the running trials and an ETA from the finished ones', async () => {
    const progress = await status();
    assert.deepEqual(progress.counts, {
      pending: 2,
      queued: 1,
      running: 1,
      completed: 1,
      failed: 1,
      cancelled: 0,
    });
    assert.equal(progress.total, 6);
    assert.equal(progress.running.length, 2);
    // Four trials to go at 40 s each, two at a time (what is running now, as the sweep sets no limit).
    assert.ok(
      progress.etaSeconds !== null && Math.abs(progress.etaSeconds - 80) < 1,
      String(progress.etaSeconds),
    );
    const text = await cli('status', name);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /1\/6 done · 2 running · 2 pending · 1 failed · ETA 1:20/);
    assert.equal(text.stdout.match(/▸ random\/uniform direct ×10 seed 0/g)?.length, 2, text.stdout);
  });

  test('retry puts the failed trials back to pending and reopens a finished sweep', async () => {
    await db.store.setSweepStatus((await db.store.findSweep(name))!.id, 'failed');
    const retried = await cli('retry', name, '--json');
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal(JSON.parse(retried.stdout).retried, 1);
    const progress = await status();
    assert.equal(progress.counts.failed, 0);
    assert.equal(progress.counts.pending, 3);
    assert.equal(progress.sweep.status, 'pending');
    const trial = await db.prisma.trial.findUniqueOrThrow({ where: { id: trialIds[1] } });
    assert.deepEqual([trial.error, trial.attempts], [null, 1]);
  });

  test('status --watch follows the sweep until cancel finishes it; cancel marks trials and attempts', async () => {
    const watch = spawn(
      process.execPath,
      [ESWEEP_BIN, 'sweep', 'status', name, '--watch', '--interval', '0.2', '--database', db.url],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let watched = '';
    let errors = '';
    watch.stdout.on('data', (chunk: Buffer) => {
      watched += chunk;
    });
    watch.stderr.on('data', (chunk: Buffer) => {
      errors += chunk;
    });
    const exited = once(watch, 'exit');
    try {
      await waitFor(
        'the watcher to show the running sweep',
        () => {
          if (watch.exitCode !== null || watch.signalCode !== null)
            throw new Error(`the watcher exited early (${watch.exitCode ?? watch.signalCode}): ${errors}`);
          return watched.includes('running');
        },
        30_000,
      );
      const cancelled = await cli('cancel', name, '--json');
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.equal(JSON.parse(cancelled.stdout).cancelled, 5);
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      watch.kill();
    }
    const lines = watched.trim().split('\n');
    assert.match(lines[0], /1\/6 done · 2 running · 3 pending/);
    assert.match(lines.at(-1)!, /1\/6 done · 0 running · 5 cancelled/);
    const progress = await status();
    assert.equal(progress.sweep.status, 'cancelled');
    assert.equal(progress.counts.cancelled, 5);
    // Trial 1's failed attempt stays history; the attempts out (trials 2 and 3) are cancelled.
    const attempts = await db.prisma.attempt.findMany({ where: { trialId: { in: trialIds.slice(1, 4) } } });
    assert.deepEqual(
      trialIds.slice(1, 4).map((id) => attempts.find((a) => a.trialId === id)?.status),
      ['failed', 'cancelled', 'cancelled'],
    );
  });

  test('report --json names the file it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esweep-report-'));
    try {
      const out = join(dir, 'nested', 'report.html');
      const result = await cli('report', name, '--out', out, '--json');
      assert.equal(result.code, 0, result.stderr);
      const found = (await db.store.findSweep(name))!;
      assert.deepEqual(JSON.parse(result.stdout), { sweep: { id: found.id, name }, report: out });
      assert.match(await readFile(out, 'utf8'), /^<!doctype html>/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('compare --json states its gap limit and gives the claims, undecided without accuracies', async () => {
    const result = await cli('compare', name, '--max-gap', '3', '--json');
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as {
      maxGap: number;
      archs: unknown[];
      claims: { verdict: string }[];
    };
    assert.equal(out.maxGap, 3);
    assert.deepEqual(out.archs, []);
    assert.ok(out.claims.length >= 4);
    assert.ok(out.claims.every((c) => c.verdict === 'not enough data'));
  });

  test('an unknown sweep or a bad flag is one line on stderr and exit code 2', async () => {
    for (const args of [
      ['cancel', 'no-such-sweep'],
      ['retry', 'no-such-sweep'],
      ['status', name, '--watch', '--interval', '0'],
      ['status', name, '--watch', '--interval', 'soon'],
      ['compare', name, '--max-gap', '0.5'],
      ['report', name, '--out', join(tmpdir(), 'esweep-never.html'), '--trial', 'nope'],
    ]) {
      const result = await cli(...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(
        result.stderr,
        /^esweep: (no sweep with id or name 'no-such-sweep'|--interval: must be a positive number of seconds, got '(0|soon)'|--max-gap: must be a ratio ≥ 1, got '0\.5'|no trial 'nope' in sweep manage-me)$/m,
      );
    }
  });
});
