// Several `esweep controller` processes against one (fake) cluster, as a rolling update, a partition
// or a second controller started from a laptop would make: they elect a leader on a Lease and only
// it acts. Real worker processes (run by the simulated kubelet), real NATS JetStream and a real
// Postgres database. Mid-sweep the leader is killed with SIGKILL; another takes over, and the
// fake's audit log shows one Job create per trial attempt and no Job deleted by a controller.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { bundleCli } from '../../orchestrator/cli/bundle.ts';
import { NatsArtifactStore } from '../../orchestrator/events/artifacts.ts';
import { connectNats, ensureStreams, NatsEventSource } from '../../orchestrator/events/nats.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../../orchestrator/events/test-support.ts';
import { Ingester } from '../../orchestrator/ingest/ingester.ts';
import { PROJECT_ROOT } from '../../orchestrator/project-root.ts';
import { runName } from '../../orchestrator/scheduler/names.ts';
import { submitPlan } from '../../orchestrator/store/plan-records.ts';
import { createTestDatabase, type TestDatabase } from '../../orchestrator/store/test-support.ts';
import { expandSweep } from '../../orchestrator/sweep/expand.ts';
import { parseSweepYaml } from '../../orchestrator/sweep/spec.ts';
import { FaultInjector, parseFaults } from '../fake-kube/faults.ts';
import type { FakeKubeOptions } from '../fake-kube/server.ts';
import { type FakeCluster, startFakeCluster, waitFor } from '../fake-kube/support.ts';
import { ControllerReplica, leadIntervals, TEST_TIMING, writeClusterFile } from './controller-processes.ts';

const sweepYaml = (name: string) => `name: ${name}
architectures: [lenet300100]
pruners: [random/erk, magnitude/global]
types: [direct]
compressions: [10, 100]
budget: {iterations: 10}
resources: {gpu: 0}
maxParallel: 2
retries: 1
`;

/**
 * The protocol's bound on a takeover after the holder died (one lease duration and one retry period),
 * plus one API round trip: the successor's acquiring update and the log line that records it.
 */
const ROUND_TRIP_ALLOWANCE_MS = 1000;
const TAKEOVER_BOUND_MS =
  (TEST_TIMING.leaseDuration + TEST_TIMING.retryPeriod) * 1000 + ROUND_TRIP_ALLOWANCE_MS;

describe('high availability: several controller processes, one leader', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let ingester: Ingester;
  let artifacts: NatsArtifactStore;
  /** The bundled CLI, for controllers and workers alike: on a loaded 2-core machine tsx's start-up
   * (seconds of CPU per process) starved the leaders of the CPU they renew with. */
  let bin: string;
  let bundleDir: string;
  const names = uniqueNames('ha');
  const bucket = `esweep-artifacts-ha-${randomBytes(4).toString('hex')}`;
  const workerEnv = {
    NATS_URL: TEST_NATS_URL,
    ESWEEP_EVENTS: 'nats',
    ESWEEP_EVENT_PREFIX: names.prefix,
    ESWEEP_ARTIFACT_BUCKET: bucket,
  };

  before(async () => {
    bundleDir = join(PROJECT_ROOT, 'dist', `ha-${randomBytes(4).toString('hex')}`);
    bin = await bundleCli(bundleDir);
    db = await createTestDatabase('e2e_ha');
    nc = await connectNats({ servers: TEST_NATS_URL });
    await ensureStreams(nc, names);
    artifacts = new NatsArtifactStore(nc, bucket);
    ingester = new Ingester(db.store, new NatsEventSource(nc, { ...names, durable: 'ha' })).start();
  });

  after(async () => {
    await ingester?.stop();
    await artifacts?.destroy().catch(() => {});
    if (nc) {
      await deleteStreams(nc, names);
      await nc.close();
    }
    await db?.dispose();
    if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  });

  /** One sweep under `count` replicas, the leader killed mid-sweep; returns the takeover figures. */
  async function sweepWithReplicas(
    t: TestContext,
    label: string,
    count: number,
    options: FakeKubeOptions = {},
    restartEveryMs = 0,
  ) {
    const cluster: FakeCluster = await startFakeCluster(options, {
      command: [process.execPath, bin, 'train'],
      env: workerEnv,
    });
    const restarts = restartEveryMs ? setInterval(() => cluster.server.restart(), restartEveryMs) : undefined;
    const replicas: ControllerReplica[] = [];
    // Like a kubelet (restartPolicy Always), a replica that exits on its own (a lost lead) is started
    // again; the one this test kills stays dead.
    let restartedReplicas = 0;
    let supervising = true;
    const supervisor = setInterval(() => {
      for (const r of replicas)
        if (supervising && !r.running && r.killedAt === undefined) {
          restartedReplicas++;
          r.start();
        }
    }, 200);
    try {
      const plan = expandSweep(parseSweepYaml(sweepYaml(label)));
      const { sweep } = await submitPlan(db.store, plan, 'kubernetes');
      const clusterFile = await writeClusterFile(cluster.dir, cluster.config);
      for (let i = 0; i < count; i++)
        replicas.push(new ControllerReplica(`${label}-${i}`, { bin, clusterFile, database: db.url }));
      const jobCreates = () =>
        cluster.server.audit.entries.filter(
          (e) => e.resource === 'jobs' && e.verb === 'create' && e.code < 300,
        );

      // Mid-sweep: the leader has created Jobs, and trials are still to run.
      const leader = await waitFor(
        'a leader that created Jobs',
        () =>
          replicas.find(
            (r) => r.leading && jobCreates().some((e) => e.userAgent === `esweep-controller/${r.identity}`),
          ),
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      assert.notEqual((await db.store.findSweep(sweep.id))?.status, 'completed', 'killed mid-sweep');
      leader.kill();
      const killedAt = leader.killedAt!;
      const successor = await waitFor(
        'another replica to take over',
        () =>
          replicas.find(
            (r) => r !== leader && r.after(killedAt, (l) => l.decision === 'lead gained').length > 0,
          ),
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const gained = Date.parse(successor.after(killedAt, (l) => l.decision === 'lead gained')[0].time);
      const caughtUp = await waitFor(
        "the successor's first pass",
        () => successor.after(gained, (l) => l.msg === 'first pass as leader done')[0],
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const firstAction = successor.after(
        gained,
        (l) => l.decision !== undefined && l.decision !== 'lead gained',
      )[0];
      const takeover = {
        leadGainedMs: gained - killedAt,
        firstPassMs: Date.parse(caughtUp.time) - killedAt,
        firstDecisionMs: firstAction ? Date.parse(firstAction.time) - killedAt : null,
      };
      t.diagnostic(`${label}: takeover after kill -9: ${JSON.stringify(takeover)}`);

      const status = await waitFor(
        'the sweep to finish',
        async () => {
          const row = await db.prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
          return ['completed', 'failed', 'cancelled'].includes(row.status) ? row.status : null;
        },
        { timeoutMs: 150_000, intervalMs: 250 },
      );
      const trials = await db.store.listTrials(sweep.id);
      assert.equal(
        status,
        'completed',
        trials.map((x) => `${x.key}: ${x.status} ${x.error ?? ''}`).join('; '),
      );

      // Shutdown: SIGTERM, the leader releases the lease.
      supervising = false;
      const end = Date.now();
      const codes = await Promise.all(replicas.filter((r) => r !== leader).map((r) => r.terminate()));
      assert.deepEqual(
        codes,
        codes.map(() => 0),
        replicas.map((r) => r.stderr).join('\n'),
      );
      assert.ok(
        replicas.some((r) => r.lines.some((l) => l.decision === 'lead released')),
        'the last leader released the lease',
      );
      const lease = cluster.server.store.get('leases', 'esweep-test', 'esweep-controller');
      assert.equal((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity, '');

      // Never two leaders at once.
      const intervals = leadIntervals(replicas, end);
      for (let i = 1; i < intervals.length; i++)
        assert.ok(intervals[i][1] >= intervals[i - 1][2], `overlapping leads: ${JSON.stringify(intervals)}`);

      // Exactly one create per trial attempt, each by a replica; no Job deleted by a controller.
      const expected = new Set(
        trials.flatMap((trial) =>
          Array.from({ length: trial.attempts }, (_, i) => runName(label, trial.key, i + 1)),
        ),
      );
      const creates = jobCreates();
      const byName = new Map<string, number>();
      for (const e of creates) byName.set(e.name!, (byName.get(e.name!) ?? 0) + 1);
      assert.deepEqual([...byName.keys()].sort(), [...expected].sort());
      assert.ok(
        [...byName.values()].every((n) => n === 1),
        JSON.stringify([...byName]),
      );
      const agents = new Set(replicas.map((r) => `esweep-controller/${r.identity}`));
      assert.ok(
        creates.every((e) => agents.has(e.userAgent ?? '')),
        'every create names its controller',
      );
      const deletes = cluster.server.audit.entries.filter(
        (e) => e.resource === 'jobs' && e.verb === 'delete' && e.userAgent?.startsWith('esweep-controller/'),
      );
      assert.deepEqual(deletes, [], 'no Job deleted by a controller');
      assert.ok(
        new Set(creates.map((e) => e.userAgent)).size >= 2,
        'Jobs were created by the killed leader and by its successor',
      );

      // No trial completed twice: one completed attempt each, and one result.
      for (const trial of trials) {
        const attempts = await db.store.listAttempts(trial.id);
        assert.equal(attempts.filter((a) => a.status === 'completed').length, 1, trial.key);
      }
      const results = await waitFor(
        'every result in Postgres',
        async () => {
          const rows = await db.store.sweepResults(sweep.id, { completedOnly: true });
          return rows.length === trials.length ? rows : null;
        },
        30_000,
      );
      assert.equal(new Set(results.map((r) => r.key)).size, trials.length);

      // The protocol's bound, measured from the kill (the holder's last renewal was no later).
      assert.ok(
        takeover.leadGainedMs <= TAKEOVER_BOUND_MS,
        `lead taken ${takeover.leadGainedMs} ms after the kill (bound ${TAKEOVER_BOUND_MS} ms)`,
      );
      return { takeover, restartedReplicas, creates: creates.length };
    } catch (error) {
      // What each replica said, to tell why.
      for (const r of replicas)
        t.diagnostic(
          `${r.identity} exits ${JSON.stringify(r.exits)}: ${r.lines
            .filter((l) => l.msg !== 'leader observed')
            .slice(-12)
            .map((l) => JSON.stringify(l))
            .join('\n')}\n${r.stderr.slice(-2000)}`,
        );
      const leaseCalls = cluster.server.audit.entries
        .filter((e) => e.resource === 'leases')
        .slice(-30)
        .map((e) => `${e.time.slice(14, 23)} ${e.verb} ${e.code} ${e.userAgent}`);
      t.diagnostic(`lease writes (last 30): ${leaseCalls.join(', ')}`);
      throw error;
    } finally {
      supervising = false;
      clearInterval(supervisor);
      clearInterval(restarts);
      for (const r of replicas) if (r.running) r.child.kill('SIGKILL');
      await Promise.all(replicas.map((r) => r.exited));
      await cluster.close();
    }
  }

  test('two controllers: one leads; kill -9 it mid-sweep and the other finishes the sweep', {
    timeout: 240_000,
  }, async (t) => {
    await sweepWithReplicas(t, 'ha-two', 2);
  });

  test('three controllers while the API server throttles, fails, expires watches and restarts', {
    timeout: 240_000,
  }, async (t) => {
    const faults = new FaultInjector(parseFaults('429=0.03,500=0.01,503=0.01,409=0.05,410=0.2,seed=13'));
    const outcome = await sweepWithReplicas(t, 'ha-three', 3, { intercept: faults.intercept }, 8_000);
    t.diagnostic(
      `faults injected: ${JSON.stringify(Object.fromEntries(faults.injected))}; replicas restarted after a lost lead: ${outcome.restartedReplicas}`,
    );
    assert.ok(
      (faults.injected.get(429) ?? 0) > 0 && (faults.injected.get(410) ?? 0) > 0,
      'faults were injected',
    );
  });
});
