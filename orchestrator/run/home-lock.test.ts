import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { processStartTicks } from '../scheduler/local/process.ts';
import { LOCK_FILE, lockHome } from './home-lock.ts';

const home = mkdtempSync(join(tmpdir(), 'esweep-lock-test-'));
const lockFile = join(home, LOCK_FILE);

/** The pid of a process that has exited (and been reaped). */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('home lock', () => {
  after(() => rmSync(home, { recursive: true, force: true }));

  test('a second holder is refused with the pid and start of the first; release frees it', () => {
    const lock = lockHome(home);
    const written = JSON.parse(readFileSync(lockFile, 'utf8'));
    assert.equal(written.pid, process.pid);
    assert.equal(written.startTicks, processStartTicks(process.pid));
    assert.throws(
      () => lockHome(home),
      (error: unknown) =>
        error instanceof InputError &&
        error.message.includes(`pid ${process.pid}, started ${written.startedAt}`) &&
        !error.message.includes('\n'),
    );
    lock.release();
    assert.equal(existsSync(lockFile), false);
    lockHome(home).release();
  });

  test('a lock whose process is gone is stale and taken over', () => {
    const pid = deadPid();
    writeFileSync(lockFile, JSON.stringify({ pid, startTicks: 1, startedAt: 'yesterday' }));
    const lock = lockHome(home);
    assert.equal(JSON.parse(readFileSync(lockFile, 'utf8')).pid, process.pid);
    lock.release();
  });

  test('a live pid that started at another time (a reused pid) does not hold the lock', () => {
    const ticks = processStartTicks(process.pid);
    assert.notEqual(ticks, null, 'this test needs /proc');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, startTicks: ticks! - 1, startedAt: 'x' }));
    lockHome(home).release();
  });

  test('an unreadable lock (its writer killed mid-write) does not block', () => {
    writeFileSync(lockFile, '{"pid": 12');
    lockHome(home).release();
  });
});
