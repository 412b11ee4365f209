// `esweep run` as a process: one run per home, and no worker outlives a run killed with SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../../test/fake-kube/support.ts';
import { ESWEEP_BIN } from '../../project-root.ts';
import { lockHome } from '../../run/home-lock.ts';
import { createTestDatabase, type TestDatabase } from '../../store/test-support.ts';
import { runCli } from '../run-cli.ts';

const SWEEP = `name: orphan-test
architectures: [lenet300100]
pruners: [random/uniform]
compressions: [10]
budget: {iterations: 1000000}
resources: {gpu: 0}
maxParallel: 1
`;

/** Processes whose parent is `ppid`, with their command lines. */
function childrenOf(ppid: number): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent !== ppid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      found.push({ pid: Number(entry), cmdline });
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

const exists = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};

describe('esweep run (process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esweep-run-cli-'));
  const file = join(dir, 'sweep.yaml');
  const temp = join(dir, 'tmp');
  let db: TestDatabase;
  before(async () => {
    writeFileSync(file, SWEEP);
    mkdirSync(temp);
    db = await createTestDatabase('run_cli');
  });
  after(async () => {
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second run on the same home is refused with one line naming the holder', {
    timeout: 120_000,
  }, async () => {
    const home = join(dir, 'held');
    mkdirSync(home);
    const lock = lockHome(home);
    try {
      const result = await runCli(['run', file, '--home', home, '--database', db.url]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`^esweep: .*in use by another esweep run \\(pid ${process.pid}, started `),
      );
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    } finally {
      lock.release();
    }
  });

  test('after kill -9 of esweep run its workers exit and leave no temporary files', {
    timeout: 180_000,
  }, async () => {
    const home = join(dir, 'killed');
    const run = spawn(process.execPath, [ESWEEP_BIN, 'run', file, '--home', home, '--database', db.url], {
      env: { ...process.env, TMPDIR: temp },
      stdio: 'ignore',
    });
    try {
      const worker = await waitFor(
        'a training worker',
        () => childrenOf(run.pid!).find((p) => / train --trial /.test(p.cmdline)),
        120_000,
      );
      // Let the worker get into its training loop, so that it has scratch files to leave.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      run.kill('SIGKILL');
      await waitFor('the orphaned worker to exit', () => !exists(worker.pid), 10_000);
      const ours = readdirSync(temp).filter((name) => name.startsWith('esweep-'));
      assert.deepEqual(ours, [], 'nothing of esweep left in the temporary directory');
    } finally {
      run.kill('SIGKILL');
    }
  });
});
