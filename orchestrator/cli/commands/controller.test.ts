// `esweep controller` through the real binary.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../run-cli.ts';

describe('esweep controller', () => {
  test('a bad flag is one line on stderr and exit code 2', async () => {
    for (const [flag, value] of [
      ['--metrics-port', '70000'],
      ['--metrics-port', '-1'],
      ['--heartbeat-timeout', '1.5'],
    ]) {
      const result = await runCli(['controller', '--backend', 'local', flag, value]);
      assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`^esweep: ${flag}: must be a .*, got '${value}'$`, 'm'));
    }
  });
});
