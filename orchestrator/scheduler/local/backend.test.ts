import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor, writeFakeWorker } from '../../../test/fake-kube/support.ts';
import type { RunRequest } from '../backend.ts';
import { LocalBackend } from './backend.ts';

const request = (seed: number): RunRequest => ({
  sweepId: 's1',
  sweepName: 'local-test',
  trialId: `t${seed}`,
  trialKey: `k00000000000000${seed}`,
  attempt: 1,
  spec: { arch: 'lenet300100', dataset: 'mnist', pruner: 'dense', type: 'direct', sparsity: 0, seed },
  dependsOnTrialId: null,
  resources: { gpu: 0 },
});

describe('local backend', () => {
  let dir = '';
  let backend: LocalBackend;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-local-test-'));
    backend = new LocalBackend({
      command: await writeFakeWorker(dir),
      env: { OUT_DIR: dir },
      parallelism: 3,
    });
    await backend.start();
  });
  after(async () => {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('runs each attempt as a process; exit codes become phases; cancel kills', async () => {
    assert.equal(backend.defaultParallelism, 3);
    let changes = 0;
    backend.onChange(() => changes++);
    for (const seed of [0, 1, 2, 3]) assert.equal(await backend.create(request(seed)), 'created');
    assert.equal(await backend.create(request(0)), 'exists');
    const phase = (seed: number) => backend.runs().find((r) => r.trialId === `t${seed}`);
    await waitFor('three finished', () => [0, 1, 2].every((s) => phase(s)?.phase !== 'running'));
    assert.equal(phase(0)?.phase, 'succeeded');
    assert.deepEqual(
      [phase(1)?.phase, phase(1)?.badInput, phase(1)?.reason],
      ['failed', false, 'exit code 1'],
    );
    assert.deepEqual([phase(2)?.phase, phase(2)?.badInput], ['failed', true]);
    const seen = JSON.parse(await readFile(join(dir, `${phase(0)!.name}.local.json`), 'utf8'));
    assert.deepEqual(seen.trial, request(0).spec);
    assert.equal(seen.env.ESWEEP_TRIAL_ID, 't0');
    assert.equal(phase(3)?.phase, 'running');
    await backend.cancel(phase(3)!.name);
    assert.equal(phase(3), undefined);
    assert.ok(changes >= 5);
  });
});
