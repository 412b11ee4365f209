import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FakeCluster, startFakeCluster, waitFor } from '../../test/fake-kube/support.ts';
import type { RunRequest, RunStatus, SchedulerBackend } from '../scheduler/backend.ts';
import { KubernetesBackend } from '../scheduler/kubernetes/backend.ts';
import { runName } from '../scheduler/names.ts';
import { submitPlan } from '../store/plan-records.ts';
import { createTestDatabase, type TestDatabase, testSweepSpec, trialInput } from '../store/test-support.ts';
import { expandSweep } from '../sweep/expand.ts';
import { parseSweepYaml } from '../sweep/spec.ts';
import { Controller, type ControllerOptions } from './controller.ts';
import { serveMetrics } from './metrics.ts';

// The stand-in worker (test/fake-kube/support.ts) acts on the seed: 0 succeeds, 1 exits 1,
// 2 exits 2 (bad input), 3 blocks on its first pod until that pod is killed.
const sweepYaml = (name: string, seeds: number[], pruners = 'random/erk, lamp') => `
name: ${name}
architectures: [lenet300100]
pruners: [${pruners}]
compressions: [10]
seeds: [${seeds.join(', ')}]
retries: 1
maxParallel: 3
`;

const FAST: ControllerOptions = { debounceMs: 10, resyncMs: 200, retryBaseMs: 50, retryMaxMs: 200 };

describe('controller: database × kubernetes Jobs (fake API server, real client, real processes)', () => {
  let cluster: FakeCluster;
  let db: TestDatabase;
  before(async () => {
    [cluster, db] = await Promise.all([
      startFakeCluster({}, { ttlSecondsAfterFinished: 3600 }),
      createTestDatabase('controller'),
    ]);
  });
  after(async () => {
    await cluster.close();
    await db.dispose();
  });

  async function submit(yaml: string) {
    const result = await submitPlan(db.store, expandSweep(parseSweepYaml(yaml)), 'kubernetes');
    return result.sweep.id;
  }
  const trials = async (sweepId: string) =>
    new Map((await db.store.listTrials(sweepId)).map((t) => [`${t.pruner} ${t.seed}`, t]));

  async function start(options: ControllerOptions = {}) {
    const backend = new KubernetesBackend(cluster.config, { restartDelayMs: 50 });
    const controller = new Controller(db.store, backend, { ...FAST, ...options });
    await controller.start();
    return {
      controller,
      stop: async () => {
        await controller.stop();
        await backend.close();
      },
    };
  }

  /**
   * Evicts each pod that is blocking (seed 3's first pod), as a node drain would: once per Job, so a
   * replacement pod that is slow to exit under load is not evicted in turn.
   */
  const evictedJobs = new Set<string>();
  async function evictBlocked(): Promise<number> {
    let evicted = 0;
    for (const pod of cluster.server.store.list('pods', 'esweep-test')) {
      const job = pod.metadata.labels?.['job-name'];
      const phase = (pod.status as { phase?: string }).phase;
      if (
        phase === 'Running' &&
        job &&
        !evictedJobs.has(job) &&
        existsSync(join(cluster.dir, `${job}.blocked`))
      ) {
        evictedJobs.add(job);
        cluster.server.jobs.evict('esweep-test', pod.metadata.name);
        evicted++;
      }
    }
    return evicted;
  }

  test('runs a sweep to the end: retries, bad input, blocked dependencies, evictions that cost no retry, a restart', async () => {
    const sweepId = await submit(sweepYaml('ctl-main', [0, 1, 2, 3]));
    const first = await start();
    // Stop it mid-sweep once some Jobs exist, and start a new one: it must carry on from the database.
    await waitFor('some jobs', () => cluster.server.requests('POST jobs') >= 3);
    await first.stop();
    const second = await start();
    let evictions = 0;
    await waitFor(
      'sweep finished',
      async () => {
        evictions += await evictBlocked();
        return (await db.store.findSweep(sweepId))?.status === 'failed';
      },
      60_000,
    );
    await second.stop();

    const t = await trials(sweepId);
    const status = (key: string) => [t.get(key)?.status, t.get(key)?.attempts];
    assert.deepEqual(status('dense 0'), ['completed', 1]);
    assert.deepEqual(status('lamp 0'), ['completed', 1]);
    assert.deepEqual(status('random/erk 0'), ['completed', 1]);
    assert.deepEqual(status('dense 1'), ['failed', 2], 'retried once, then failed');
    assert.deepEqual(status('random/erk 1'), ['failed', 2]);
    assert.deepEqual(status('lamp 1'), ['failed', 0], 'its dense trial failed: never ran');
    assert.match(t.get('lamp 1')?.error ?? '', /dense trial .* failed/);
    assert.deepEqual(status('dense 2'), ['failed', 1], 'bad input is not retried');
    assert.deepEqual(status('random/erk 2'), ['failed', 1]);
    assert.ok(evictions >= 3, `evicted ${evictions}`);
    for (const key of ['dense 3', 'lamp 3', 'random/erk 3'])
      assert.deepEqual(status(key), ['completed', 1], key);

    // Exactly one Job per attempt, although two controllers worked on the sweep.
    const attempts = [...t.values()].reduce((sum, trial) => sum + trial.attempts, 0);
    const jobs = cluster.server.store
      .list('jobs', 'esweep-test')
      .filter((j) => j.metadata.labels?.['esweep.io/sweep-id'] === sweepId);
    assert.equal(jobs.length, attempts);
    assert.equal(new Set(jobs.map((j) => j.metadata.name)).size, attempts);
  });

  test('cancel deletes running Jobs and no new ones appear; a stuck trial is replaced', async () => {
    const stuckId = await submit(sweepYaml('ctl-stuck', [3], 'random/erk'));
    const cancelId = await submit(sweepYaml('ctl-cancel', [3]));
    const { controller, stop } = await start({ heartbeatTimeoutMs: 1000 });
    const metrics = await serveMetrics(controller.metrics, 0, 60_000, '127.0.0.1');
    try {
      const jobsOf = (sweepId: string) =>
        cluster.server.store
          .list('jobs', 'esweep-test')
          .filter((j) => j.metadata.labels?.['esweep.io/sweep-id'] === sweepId);
      await waitFor('cancel sweep running', async () => (await db.store.statusCounts(cancelId)).queued === 2);
      assert.equal(await db.store.cancelSweep(cancelId), 3);
      await waitFor('jobs deleted', () => jobsOf(cancelId).length === 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(jobsOf(cancelId).length, 0, 'nothing new after cancel');

      // The worker would report `running` with heartbeats; this one went silent an hour ago.
      const [trial] = await db.store.listTrials(stuckId);
      await waitFor(
        'stuck trial queued',
        async () => (await db.store.getTrial(trial.id))?.status === 'queued',
      );
      await db.prisma.trial.update({
        where: { id: trial.id },
        data: { status: 'running', heartbeatAt: new Date(Date.now() - 3_600_000) },
      });
      await waitFor('replaced', async () => (await db.store.getTrial(trial.id))?.attempts === 2);
      await waitFor('first attempt deleted', () => jobsOf(stuckId).length === 1);
      assert.match((await db.store.listAttempts(trial.id))[0].error ?? '', /no heartbeat/);

      const health = await fetch(`http://127.0.0.1:${metrics.port}/healthz`);
      assert.equal(health.status, 200);
      const text = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
      assert.match(text, /^esweep_controller_runs_created_total [1-9]/m);
      assert.match(text, /^esweep_controller_runs_cancelled_total [1-9]/m);
      assert.match(text, /^# TYPE esweep_controller_active_runs gauge$/m);
    } finally {
      metrics.closeAllConnections();
      metrics.close();
      await stop();
    }
  });
});

/** A backend that only records: each run it creates stays pending. */
class RecordingBackend implements SchedulerBackend {
  readonly name = 'local';
  readonly defaultParallelism = 1;
  readonly created: RunRequest[] = [];
  private readonly known: RunStatus[] = [];
  async start(): Promise<void> {}
  async create(request: RunRequest): Promise<'created' | 'exists'> {
    const name = runName(request.sweepName, request.trialKey, request.attempt);
    if (this.known.some((run) => run.name === name)) return 'exists';
    this.created.push(request);
    const { sweepId, trialId, attempt } = request;
    this.known.push({ name, sweepId, trialId, attempt, phase: 'pending', badInput: false });
    return 'created';
  }
  runs(): RunStatus[] {
    return [...this.known];
  }
  onChange(): () => void {
    return () => {};
  }
  async cancel(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('controller: retries backing off', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ctl_backoff');
  });
  after(() => db.dispose());

  test('never hold back a ready trial, however many wait; they start once their backoff ends', async () => {
    // 80 retries that failed just now, older than one trial never started; two at once.
    const retries = 80;
    const keyOf = (i: number) => `t${String(i).padStart(3, '0')}`;
    const inputs = Array.from({ length: retries + 1 }, (_, i) => trialInput(i, { key: keyOf(i) }));
    const { sweep } = await db.store.submitSweep(
      { name: 'ctl-backoff', spec: testSweepSpec('ctl-backoff'), backend: 'local', maxParallel: 2 },
      inputs,
    );
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const failedAt = new Date(clock);
    await db.prisma.trial.updateMany({
      where: { sweepId: sweep.id, key: { lt: keyOf(retries) } },
      data: { attempts: 1, updatedAt: failedAt },
    });
    const fresh = await db.prisma.trial.findUniqueOrThrow({
      where: { sweepId_key: { sweepId: sweep.id, key: keyOf(retries) } },
    });
    const backend = new RecordingBackend();
    const controller = new Controller(db.store, backend, {
      retryBaseMs: 60_000,
      retryMaxMs: 600_000,
      now: () => clock,
    });

    await controller.reconcile();
    await controller.reconcile(); // level-triggered: a second pass changes nothing
    assert.deepEqual(
      backend.created.map((r) => [r.trialId, r.attempt]),
      [[fresh.id, 1]],
      'the fresh trial got its run at once, the retries wait',
    );
    assert.equal((await db.store.statusCounts(sweep.id)).pending, retries);

    clock += 60_000; // the first retry's backoff is over: the oldest retry takes the place left
    await controller.reconcile();
    await controller.reconcile();
    assert.deepEqual(
      backend.created.slice(1).map((r) => [r.trialKey, r.attempt]),
      [['t000', 2]],
    );
    assert.equal((await db.store.statusCounts(sweep.id)).queued, 2);
  });
});

describe('controller: waking up when a backoff ends', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ctl_wake');
  });
  after(() => db.dispose());

  test('the earliest backoff end of any sweep wakes the controller, not the last sweep looked at', async () => {
    // Two sweeps, each with one retry waiting: the older sweep's ends in a second, the newer one's
    // in an hour. Passes go through sweeps oldest first, and the resync is an hour away, so only a
    // wake-up at the earlier end starts the first retry in time.
    const retryBaseMs = 1000;
    const retryMaxMs = 3_600_000;
    const failedAt = new Date();
    const retry = async (name: string, attempts: number, createdAt: Date) => {
      const { sweep } = await db.store.submitSweep(
        { name, spec: testSweepSpec(name), backend: 'local', maxParallel: 1 },
        [trialInput(0)],
      );
      await db.prisma.sweep.update({ where: { id: sweep.id }, data: { createdAt } });
      await db.prisma.trial.updateMany({
        where: { sweepId: sweep.id },
        data: { attempts, updatedAt: failedAt },
      });
      return sweep.id;
    };
    const soon = await retry('ctl-wake-soon', 1, new Date(failedAt.getTime() - 2000));
    const late = await retry('ctl-wake-late', 20, new Date(failedAt.getTime() - 1000));

    const backend = new RecordingBackend();
    const controller = new Controller(db.store, backend, {
      debounceMs: 10,
      resyncMs: 3_600_000,
      retryBaseMs,
      retryMaxMs,
    });
    await controller.start();
    try {
      const run = await waitFor('the retry whose backoff ended first', () => backend.created[0], 10_000);
      const startedAt = Date.now();
      assert.equal(run.sweepId, soon);
      assert.equal(run.attempt, 2);
      assert.ok(startedAt >= failedAt.getTime() + retryBaseMs, 'not before its backoff ended');
      assert.ok(!backend.created.some((r) => r.sweepId === late), 'the other retry still waits');
    } finally {
      await controller.stop();
    }
  });
});

describe('controller: passes', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ctl_passes');
  });
  after(() => db.dispose());

  test('a pass that fills the last free place asks for no second pass; metrics count active sweeps', async () => {
    const { sweep } = await db.store.submitSweep(
      { name: 'ctl-passes', spec: testSweepSpec('ctl-passes'), backend: 'local', maxParallel: 2 },
      Array.from({ length: 5 }, (_, i) => trialInput(i)),
    );
    const backend = new RecordingBackend();
    const controller = new Controller(db.store, backend, { debounceMs: 10, resyncMs: 3_600_000 });
    const idle = controller.idle();
    await controller.start();
    try {
      await idle;
      assert.equal(backend.created.length, 2);
      assert.equal((await db.store.statusCounts(sweep.id)).queued, 2);
      assert.equal(controller.metrics.reconciles, 1);
      assert.deepEqual(controller.metrics.trialCounts.get('ctl-passes'), {
        pending: 3,
        queued: 2,
        running: 0,
        failed: 0,
        cancelled: 0,
        completed: 0,
      });
      // A sweep no longer active leaves the metrics.
      await db.store.setSweepStatus(sweep.id, 'cancelled');
      await controller.reconcile();
      assert.deepEqual([...controller.metrics.trialCounts.keys()], []);
    } finally {
      await controller.stop();
    }
  });
});
