// The cluster path end to end: a LeNet-300-100 sweep through the kubernetes backend against the fake API
// server, with real worker processes (run by the simulated kubelet), real NATS JetStream (a stream,
// prefix and artifact bucket of its own) and a real Postgres database, ends with every trial
// completed and its result in Postgres — the magnitude pruner's trials scoring the dense trial's
// weights, which travel through the object store.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import { Controller } from '../../orchestrator/controller/controller.ts';
import { NatsArtifactStore } from '../../orchestrator/events/artifacts.ts';
import { connectNats, ensureStreams, NatsEventSource } from '../../orchestrator/events/nats.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../../orchestrator/events/test-support.ts';
import { Ingester } from '../../orchestrator/ingest/ingester.ts';
import { ESWEEP_BIN } from '../../orchestrator/project-root.ts';
import { KubernetesBackend } from '../../orchestrator/scheduler/kubernetes/backend.ts';
import { submitPlan } from '../../orchestrator/store/plan-records.ts';
import { createTestDatabase, type TestDatabase } from '../../orchestrator/store/test-support.ts';
import { expandSweep } from '../../orchestrator/sweep/expand.ts';
import { parseSweepYaml } from '../../orchestrator/sweep/spec.ts';
import { type FakeCluster, startFakeCluster, waitFor } from '../fake-kube/support.ts';

const SWEEP = `name: e2e-k8s
architectures: [lenet300100]
pruners: [random/erk, snip, magnitude/global]
types: [direct, effective]
compressions: [10, 100]
budget: {iterations: 20}
resources: {gpu: 0}
maxParallel: 2
retries: 1
`;

describe('a sweep on the (fake) cluster', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let cluster: FakeCluster;
  let ingester: Ingester;
  let artifacts: NatsArtifactStore;
  const names = uniqueNames('e2e');
  const bucket = `esweep-artifacts-e2e-${randomBytes(4).toString('hex')}`;

  before(async () => {
    db = await createTestDatabase('e2e_k8s');
    nc = await connectNats({ servers: TEST_NATS_URL });
    await ensureStreams(nc, names);
    artifacts = new NatsArtifactStore(nc, bucket);
    ingester = new Ingester(db.store, new NatsEventSource(nc, { ...names, durable: 'e2e' })).start();
    cluster = await startFakeCluster(
      {},
      {
        command: [process.execPath, ESWEEP_BIN, 'train'],
        env: {
          NATS_URL: TEST_NATS_URL,
          ESWEEP_EVENTS: 'nats',
          ESWEEP_EVENT_PREFIX: names.prefix,
          ESWEEP_ARTIFACT_BUCKET: bucket,
        },
      },
    );
  });

  after(async () => {
    await ingester?.stop();
    await cluster?.close();
    await artifacts?.destroy().catch(() => {});
    if (nc) {
      await deleteStreams(nc, names);
      await nc.close();
    }
    await db?.dispose();
  });

  test('every trial completes and its result is in Postgres', { timeout: 540_000 }, async () => {
    const plan = expandSweep(parseSweepYaml(SWEEP));
    assert.equal(plan.trials.length, 13, '3 pruners × 2 types × 2 compressions + the dense trial');
    const { sweep } = await submitPlan(db.store, plan, 'kubernetes');
    const backend = new KubernetesBackend(cluster.config, { restartDelayMs: 50 });
    const controller = new Controller(db.store, backend, { retryBaseMs: 1000, resyncMs: 500 });
    await controller.start();
    try {
      const status = await waitFor(
        'the sweep to finish',
        async () => {
          const row = await db.prisma.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
          return ['completed', 'failed', 'cancelled'].includes(row.status) ? row.status : null;
        },
        500_000,
      );
      const trials = await db.store.listTrials(sweep.id);
      assert.equal(
        status,
        'completed',
        trials
          .filter((t) => t.status !== 'completed')
          .map((t) => `${t.pruner}: ${t.error}`)
          .join('; '),
      );
      const results = await waitFor(
        'every result in Postgres',
        async () => {
          const rows = await db.store.sweepResults(sweep.id, { completedOnly: true });
          return rows.length === 13 ? rows : null;
        },
        30_000,
      );
      for (const r of results) {
        assert.ok(r.accuracy! > 0 && r.accuracy! <= 1, `${r.pruner} accuracy ${r.accuracy}`);
        if (r.pruner === 'dense') continue;
        const achieved = r.pruningType === 'effective' ? r.effectiveCompression! : r.directCompression!;
        assert.ok(Math.abs(achieved / r.targetCompression - 1) < 0.02, `${r.key}: ${achieved}`);
        assert.ok(r.effectiveCompression! >= r.directCompression! * 0.999);
      }
      // One Job per trial: nothing was created twice.
      assert.equal(cluster.server.requests('POST jobs'), 13);
      const dense = trials.find((t) => t.pruner === 'dense')!;
      assert.equal((await artifacts.list(`${sweep.id}/${dense.id}/`)).length, 2, 'dense weights stored');
      // A trial with no input-to-output path left is recorded without training: no curve. Curves may
      // land after the result (batches commit in either order), so they are waited for.
      const trained = results.filter((r) => !r.disconnected).length;
      for (const r of results.filter((r) => r.disconnected)) assert.equal(r.effectiveCompression, Infinity);
      const countPoints = () =>
        db.prisma.metricPoint.count({ where: { trialId: { in: trials.map((t) => t.id) } } });
      await waitFor('curves ingested', async () => (await countPoints()) >= trained * 4, {
        timeoutMs: 30_000,
        intervalMs: 250,
      });
    } finally {
      await controller.stop();
      await backend.close();
    }
  });
});
