// `esweep controller` through the real binary.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../../../test/fake-kube/support.ts';
import { ESWEEP_BIN } from '../../project-root.ts';
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

  test('migrates a fresh embedded database and reconciles it without errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esweep-controller-cli-'));
    const child = spawn(
      process.execPath,
      [ESWEEP_BIN, 'controller', '--backend', 'local', '--database', `pglite:${dir}`, '--metrics-port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    const exited = once(child, 'exit');
    try {
      await waitFor('controller started', () => stdout.includes('"controller started"'), 30_000);
      const { metricsPort } = JSON.parse(stdout.split('\n').find((l) => l.includes('controller started'))!);
      const metric = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
      };
      await waitFor(
        'a reconcile pass',
        async () => (await metric('esweep_controller_reconciles_total')) >= 1,
      );
      assert.equal(await metric('esweep_controller_reconcile_errors_total'), 0, stdout);
      assert.doesNotMatch(stdout, /reconcile failed/);
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
    } finally {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
