import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { InputError } from '../common/errors.ts';
import { readFlags, wholeNumber } from './flags.ts';

test('wholeNumber accepts whole numbers at or above the minimum and names the flag otherwise', () => {
  assert.equal(wholeNumber('points', '20000'), 20000);
  assert.equal(wholeNumber('seeds', '0', 0), 0);
  assert.throws(
    () => wholeNumber('points', 'abc'),
    new InputError("--points must be a whole number ≥ 1, got 'abc'"),
  );
  assert.throws(() => wholeNumber('points', '1.5'), InputError);
  assert.throws(() => wholeNumber('points', '0'), InputError);
});

test('readFlags returns what it read and lets other errors through', () => {
  assert.equal(
    readFlags('x', () => 7),
    7,
  );
  assert.throws(
    () =>
      readFlags('x', () => {
        throw new TypeError('a bug');
      }),
    TypeError,
  );
});

test('a bad flag is one stderr line and exit code 2', () => {
  const script = `
    import { parseArgs } from 'node:util';
    import { readFlags } from './bench/flags.ts';
    readFlags('demo', () => parseArgs({ args: ['--bogus'], options: {} }));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(child.status, 2);
  assert.equal(child.stderr, "bench:demo: Unknown option '--bogus'\n");
});
