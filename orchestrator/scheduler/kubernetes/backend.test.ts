import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CoreV1Api, type V1Job } from '@kubernetes/client-node';
import { type FakeCluster, startFakeCluster, waitFor } from '../../../test/fake-kube/support.ts';
import type { RunRequest } from '../backend.ts';
import { runName } from '../names.ts';
import { KubernetesBackend, kubeConfigFor, runStatusOf } from './backend.ts';
import { projectJob } from './job-list.ts';

function request(seed: number, attempt = 1): RunRequest {
  return {
    sweepId: 'sweep1',
    sweepName: 'backend-test',
    trialId: `trial${seed}`,
    trialKey: `00000000000000${seed}${attempt}`,
    attempt,
    spec: {
      arch: 'lenet300100',
      dataset: 'mnist',
      pruner: 'random/igq',
      type: 'direct',
      compression: 10,
      seed,
    },
    dependsOnTrialId: seed === 0 ? null : 'trial0',
    resources: { gpu: 1 },
  };
}

describe('kubernetes backend against the fake API server', () => {
  let cluster: FakeCluster;
  let backend: KubernetesBackend;
  before(async () => {
    cluster = await startFakeCluster(
      {},
      {
        secretEnv: [{ name: 'NATS_TOKEN', secret: 'esweep-nats', key: 'token' }],
      },
    );
    cluster.server.store.create('secrets', 'esweep-test', {
      metadata: { name: 'esweep-nats' },
      data: { token: Buffer.from('t0k3n').toString('base64') },
    });
    backend = new KubernetesBackend(cluster.config, { restartDelayMs: 50 });
    await backend.start();
  });
  after(async () => {
    await backend.close();
    await cluster.close();
  });

  const run = (seed: number, attempt = 1) =>
    backend.runs().find((r) => r.name === runName('backend-test', request(seed, attempt).trialKey, attempt));

  test('one Job per attempt: success, failure, bad input and an eviction that is not a failure', async () => {
    for (const seed of [0, 1, 2, 3]) assert.equal(await backend.create(request(seed)), 'created');
    assert.equal(await backend.create(request(0)), 'exists', 'a second create of the same attempt is a 409');
    await waitFor('seed 0 succeeded', () => run(0)?.phase === 'succeeded');
    const crashed = await waitFor('seed 1 failed', () => (run(1)?.phase === 'failed' ? run(1) : undefined));
    assert.equal(crashed.badInput, false);
    assert.match(crashed.reason ?? '', /BackoffLimitExceeded/);
    const refused = await waitFor('seed 2 failed', () => (run(2)?.phase === 'failed' ? run(2) : undefined));
    assert.equal(refused.badInput, true);
    assert.deepEqual(
      { sweepId: refused.sweepId, trialId: refused.trialId, attempt: refused.attempt },
      { sweepId: 'sweep1', trialId: 'trial2', attempt: 1 },
    );

    // Seed 3 blocks on its first pod: evict it; the replacement succeeds within the same Job.
    const core = kubeConfigFor(cluster.config).makeApiClient(CoreV1Api);
    const name3 = run(3)!.name;
    await waitFor('seed 3 blocking', async () =>
      (await readdir(cluster.dir)).some((f) => f === `${name3}.blocked`),
    );
    const pods = await core.listNamespacedPod({
      namespace: 'esweep-test',
      labelSelector: `job-name=${name3}`,
    });
    const pod = pods.items[0].metadata!.name!;
    await core.createNamespacedPodEviction({
      name: pod,
      namespace: 'esweep-test',
      body: { metadata: { name: pod } },
    });
    await waitFor('seed 3 succeeded after eviction', () => run(3)?.phase === 'succeeded');

    // The informer caches slim Jobs: they must tell the controller all that the whole Jobs tell.
    const jobs = cluster.server.store.list('jobs', 'esweep-test') as unknown as V1Job[];
    assert.equal(jobs.length, 4);
    for (const job of jobs) {
      const slim = projectJob(job, 'stored Job');
      assert.ok(JSON.stringify(slim).length < JSON.stringify(job).length / 3);
      assert.deepEqual(runStatusOf(slim), runStatusOf(job));
    }

    // What the worker saw: its trial file, its ids, the secret through secretKeyRef.
    const seen = JSON.parse(
      await readFile(join(cluster.dir, `${run(0)!.name}.${await podOf(core, run(0)!.name)}.json`), 'utf8'),
    );
    assert.deepEqual(seen.trial, request(0).spec);
    assert.equal(seen.env.ESWEEP_TRIAL_ID, 'trial0');
    assert.equal(seen.env.ESWEEP_ATTEMPT, '1');
    assert.equal(seen.env.NATS_TOKEN, 't0k3n');
    assert.equal(seen.env.ESWEEP_DENSE_TRIAL_ID, undefined);
  });

  test('cancel deletes the Job and its pod; a restarted backend sees what exists', async () => {
    const blocking = { ...request(3, 2), trialKey: '0000000000000099' };
    await backend.create(blocking);
    const name = runName('backend-test', blocking.trialKey, 2);
    await waitFor(
      'blocking pod running',
      () =>
        cluster.server.jobs.runningProcesses > 0 &&
        backend.runs().some((r) => r.name === name && r.phase === 'running'),
    );
    await backend.cancel(name);
    await backend.cancel(name);
    await waitFor('gone', () => !backend.runs().some((r) => r.name === name));
    await waitFor('process killed', () => cluster.server.jobs.runningProcesses === 0);

    const restarted = new KubernetesBackend(cluster.config);
    await restarted.start();
    assert.deepEqual(
      restarted
        .runs()
        .map((r) => `${r.trialId} ${r.phase}`)
        .sort(),
      ['trial0 succeeded', 'trial1 failed', 'trial2 failed', 'trial3 succeeded'],
    );
    await restarted.close();
  });

  test('the informer is restarted after the API server drops it and after history is compacted', async () => {
    cluster.server.closeWatches();
    cluster.server.store.compact();
    const extra = { ...request(0), trialKey: '0000000000000077', trialId: 'trial77' };
    await backend.create(extra);
    await waitFor(
      'new run observed',
      () => backend.runs().find((r) => r.trialId === 'trial77')?.phase === 'succeeded',
    );
  });
});

async function podOf(core: CoreV1Api, job: string): Promise<string> {
  const pods = await core.listNamespacedPod({ namespace: 'esweep-test', labelSelector: `job-name=${job}` });
  return pods.items[0].metadata!.name!;
}
