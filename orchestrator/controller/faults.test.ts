// The controller (database × kubernetes Jobs) through API-server faults, Kueue and stuck pods: the
// fake API server injects them (test/fake-kube/faults.ts), the real client meets them, real
// processes run the pods.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FaultInjector, faultOptions, parseFaults, scheduleRestarts } from '../../test/fake-kube/faults.ts';
import { FakeKueue } from '../../test/fake-kube/kueue.ts';
import { type FakeCluster, startFakeCluster, waitFor } from '../../test/fake-kube/support.ts';
import { KubernetesBackend } from '../scheduler/kubernetes/backend.ts';
import { DEFAULT_RETRY } from '../scheduler/kubernetes/retry.ts';
import { submitPlan } from '../store/plan-records.ts';
import { createTestDatabase, type TestDatabase } from '../store/test-support.ts';
import { expandSweep } from '../sweep/expand.ts';
import { parseSweepYaml } from '../sweep/spec.ts';
import { Controller } from './controller.ts';

// The stand-in worker (test/fake-kube/support.ts): seed 0 succeeds, seed 3 blocks on its first pod.
const sweepYaml = (name: string, seeds: number[]) => `
name: ${name}
architectures: [lenet300100]
pruners: [random/erk, lamp]
compressions: [10]
seeds: [${seeds.join(', ')}]
retries: 2
maxParallel: 4
`;

const FAST_RETRY = { ...DEFAULT_RETRY, backoff: { initialMs: 20, maxMs: 200, jitter: true } };

describe('controller under API faults, Kueue preemption and stuck pods', () => {
  let cluster: FakeCluster;
  let db: TestDatabase;
  let kueue: FakeKueue;
  let stopRestarts: () => void;
  const faults = new FaultInjector(
    parseFaults('429=0.05,500=0.04,503=0.04,burst=2,410=0.2,retryAfter=1,seed=3'),
  );
  before(async () => {
    [cluster, db] = await Promise.all([
      startFakeCluster(
        {
          ...faultOptions(faults),
          stuck: [{ reason: 'ImagePullBackOff', label: { key: 'esweep.io/sweep', value: 'flt-stuck' } }],
        },
        { queueName: 'research', stuckPodTimeoutSeconds: 1 },
      ),
      createTestDatabase('controller_faults'),
    ]);
    kueue = new FakeKueue(cluster.server.store, 2);
    stopRestarts = scheduleRestarts(cluster.server, { ...faults.spec, restartEveryMs: 1500 });
  });
  after(async () => {
    stopRestarts();
    kueue.stop();
    await cluster.close();
    await db.dispose();
  });

  async function start() {
    const backend = new KubernetesBackend(cluster.config, { restartDelayMs: 20, retry: FAST_RETRY });
    const controller = new Controller(db.store, backend, {
      debounceMs: 10,
      resyncMs: 200,
      retryBaseMs: 50,
      retryMaxMs: 200,
    });
    await controller.start();
    return async () => {
      await controller.stop();
      await backend.close();
    };
  }
  const submit = async (yaml: string) =>
    (await submitPlan(db.store, expandSweep(parseSweepYaml(yaml)), 'kubernetes')).sweep.id;
  const jobsOf = (sweepId: string) =>
    cluster.server.store
      .list('jobs', 'esweep-test')
      .filter((j) => j.metadata.labels?.['esweep.io/sweep-id'] === sweepId);

  test('429/5xx/410/restarts and a Kueue preemption: the sweep completes, one Job per trial, no retry spent', async () => {
    const sweepId = await submit(sweepYaml('flt-main', [0, 3]));
    const stop = await start();
    try {
      const preempted = new Set<string>();
      await waitFor(
        'sweep completed',
        async () => {
          // Preempt each blocking first pod's Job once (seed 3): Kueue suspends it, its pod is deleted.
          for (const job of jobsOf(sweepId)) {
            const name = job.metadata.name;
            if (!preempted.has(name) && existsSync(join(cluster.dir, `${name}.blocked`))) {
              if (kueue.preempt('esweep-test', name)) preempted.add(name);
            }
          }
          // A fast machine can finish before the draws include a 410: the controller then goes on
          // watching through restarts until they do, and the checks below still hold.
          const total = [...faults.injected.values()].reduce((a, b) => a + b, 0);
          return (
            (await db.store.findSweep(sweepId))?.status === 'completed' &&
            total >= 3 &&
            faults.injected.has(410)
          );
        },
        { timeoutMs: 90_000, intervalMs: 50 },
      );
      assert.ok(preempted.size >= 1, 'a Job was preempted');
      const trials = await db.store.listTrials(sweepId);
      assert.equal(trials.length, 6);
      for (const t of trials) assert.deepEqual([t.key, t.status, t.attempts], [t.key, 'completed', 1]);
      const jobs = jobsOf(sweepId);
      assert.equal(jobs.length, trials.length, 'exactly one Job per trial');
      const injected = [...faults.injected.values()].reduce((a, b) => a + b, 0);
      assert.ok(
        injected >= 3 && faults.injected.has(410),
        `faults injected: ${JSON.stringify([...faults.injected])}`,
      );
    } finally {
      await stop();
    }
  });

  test('a pod stuck in ImagePullBackOff past the limit: the trial fails with that reason, once, its Job deleted', async () => {
    const sweepId = await submit(sweepYaml('flt-stuck', [0]));
    const stop = await start();
    try {
      await waitFor('sweep failed', async () => (await db.store.findSweep(sweepId))?.status === 'failed', {
        timeoutMs: 60_000,
        intervalMs: 50,
      });
      const trials = await db.store.listTrials(sweepId);
      const dense = trials.find((t) => t.pruner === 'dense')!;
      assert.equal(dense.status, 'failed');
      assert.equal(dense.attempts, 1, 'no retry spent on a pod that cannot start');
      assert.match(dense.error ?? '', /stuck in ImagePullBackOff for \d+ s: Back-off pulling image/);
      await waitFor('its Job deleted', () =>
        jobsOf(sweepId).every((j) => j.metadata.deletionTimestamp || !j),
      );
    } finally {
      await stop();
    }
  });
});
