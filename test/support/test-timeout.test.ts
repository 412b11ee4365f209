import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const HANGS = `
import { before, describe, it, test } from 'node:test';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
test('hangs', () => sleep(60_000));
test('names its own timeout', { timeout: 20_000 }, () => sleep(1000));
describe('a suite', () => {
  it('hangs too', () => sleep(60_000));
  it('is quick', () => {});
});
describe('a hook', () => {
  before(() => sleep(60_000));
  it('never runs', () => {});
});
`;

test('the preload gives tests and hooks without a timeout of their own a default one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esweep-test-timeout-'));
  try {
    writeFileSync(join(dir, 'hangs.test.mjs'), HANGS);
    const preload = join(import.meta.dirname, 'test-timeout.mjs');
    // Without NODE_TEST_CONTEXT the child reports on its own stdout, not to this runner.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const result = spawnSync(
      process.execPath,
      ['--import', preload, '--test', '--test-force-exit', join(dir, 'hangs.test.mjs')],
      {
        env: { ...env, ESWEEP_TEST_TIMEOUT_MS: '500' },
        encoding: 'utf8',
        timeout: 50_000,
      },
    );
    const out = result.stdout;
    assert.equal(result.signal, null, 'the run ended by itself, though the sleeps still hold the event loop');
    assert.match(out, /^not ok 1 - hangs\n(.*\n)*? {2}error: 'test timed out after 500ms'/m);
    assert.match(out, /^ok 2 - names its own timeout$/m);
    assert.match(out, /^ {4}not ok 1 - hangs too\n(.*\n)*? {6}error: 'test timed out after 500ms'/m);
    assert.match(out, /^ {4}ok 2 - is quick$/m);
    assert.match(out, /^not ok 4 - a hook\n(.*\n)*? {2}error: 'failed running before hook'/m);
    assert.match(out, /^# pass 2\n# fail 0\n# cancelled 3$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
