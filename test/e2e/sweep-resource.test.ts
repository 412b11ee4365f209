// Sweeps the Kubernetes way, end to end on the fake cluster: the CRD generated from the sweep file's
// schema is installed, `esweep sweep submit --backend kubernetes` creates a Sweep object with only
// cluster settings (no database), a real controller (Jobs + Sweep objects) runs it with real workers,
// real NATS JetStream and Postgres, and reads of the object through the API follow its status to
// Completed. Deleting a running Sweep cancels its Jobs and keeps finished results; an invalid spec
// gets an Invalid condition; two controllers and a restart expand a Sweep once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiextensionsV1Api, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { runCli } from '../../orchestrator/cli/run-cli.ts';
import { Controller } from '../../orchestrator/controller/controller.ts';
import { SweepResources } from '../../orchestrator/controller/sweep-resources.ts';
import { NatsArtifactStore } from '../../orchestrator/events/artifacts.ts';
import { connectNats, ensureStreams, NatsEventSource } from '../../orchestrator/events/nats.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../../orchestrator/events/test-support.ts';
import { Ingester } from '../../orchestrator/ingest/ingester.ts';
import { ESWEEP_BIN } from '../../orchestrator/project-root.ts';
import { KubernetesBackend } from '../../orchestrator/scheduler/kubernetes/backend.ts';
import { SweepClient, statusCode } from '../../orchestrator/scheduler/kubernetes/sweep-client.ts';
import { createTestDatabase, type TestDatabase } from '../../orchestrator/store/test-support.ts';
import { sweepCrd } from '../../orchestrator/sweep/crd.ts';
import type { SweepObject } from '../../orchestrator/sweep/resource.ts';
import { type FakeCluster, fakeKubeConfig, startFakeCluster, waitFor } from '../fake-kube/support.ts';

// examples/quickstart.yaml's shape at a size two shared cores run in a few minutes: 4 trials of 20
// iterations instead of 30 of 200 (each worker process takes tens of seconds to start there).
const QUICK = `name: quick
architectures: [lenet300100]
pruners: [snip]
types: [direct, effective]
compressions: [10, 100]
seeds: [0]
budget: {iterations: 20}
resources: {gpu: 0}
maxParallel: 2
retries: 1
`;

/** Four trials one at a time: deleted while it runs, with some results in. */
const LONG = {
  architectures: ['lenet300100'],
  pruners: ['random/erk', 'snip'],
  types: ['direct'],
  compressions: [10, 100],
  budget: { iterations: 20 },
  resources: { gpu: 0 },
  maxParallel: 1,
};

describe('Sweep objects on the (fake) cluster', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  let cluster: FakeCluster;
  let ingester: Ingester;
  let artifacts: NatsArtifactStore;
  let backend: KubernetesBackend;
  let controller: Controller;
  const reconcilers: { sweeps: SweepResources; client: SweepClient }[] = [];
  const expansions: Record<string, unknown>[] = [];
  let cli: SweepClient;
  let settingsFile: string;
  const names = uniqueNames('crd');
  const bucket = `esweep-artifacts-crd-${randomBytes(4).toString('hex')}`;
  /** The CLI as a user runs it: cluster settings only, no database anywhere in its environment. */
  const userEnv = () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    delete env.ESWEEP_CLUSTER_CONFIG;
    return env;
  };

  /** A Sweep-object reconciler as the controller runs it, with a client of its own. */
  async function startReconciler(): Promise<{ sweeps: SweepResources; client: SweepClient }> {
    const client = new SweepClient(cluster.config, { restartDelayMs: 50 });
    const log = (entry: Record<string, unknown>) => {
      if (entry.msg === 'sweep object expanded') expansions.push(entry);
    };
    const sweeps = new SweepResources(client, db.store, backend, { resyncMs: 300, log });
    await sweeps.start();
    const pair = { sweeps, client };
    reconcilers.push(pair);
    return pair;
  }

  async function stopReconciler(pair: { sweeps: SweepResources; client: SweepClient }): Promise<void> {
    await pair.sweeps.stop();
    await pair.client.close();
    reconcilers.splice(reconcilers.indexOf(pair), 1);
  }

  const getObject = async (name: string) => (await cli.get(name)) as SweepObject;

  before(async () => {
    db = await createTestDatabase('e2e_crd');
    nc = await connectNats({ servers: TEST_NATS_URL });
    await ensureStreams(nc, names);
    artifacts = new NatsArtifactStore(nc, bucket);
    ingester = new Ingester(db.store, new NatsEventSource(nc, { ...names, durable: 'crd' })).start();
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
    // Installed as the Pulumi program installs it: the generated CRD.
    const kc = fakeKubeConfig(cluster.config.server!);
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: sweepCrd() as V1CustomResourceDefinition });
    settingsFile = join(cluster.dir, 'cluster.yaml');
    await writeFile(
      settingsFile,
      stringify({ server: cluster.config.server, skipTLSVerify: true, namespace: cluster.config.namespace }),
    );
    cli = new SweepClient({ ...cluster.config });
    backend = new KubernetesBackend(cluster.config, { restartDelayMs: 50 });
    controller = new Controller(db.store, backend, { retryBaseMs: 1000, resyncMs: 500 });
    await controller.start();
  });

  after(async () => {
    for (const pair of [...reconcilers]) await stopReconciler(pair);
    await controller?.stop();
    await backend?.close();
    await ingester?.stop();
    await cluster?.close();
    await artifacts?.destroy().catch(() => {});
    if (nc) {
      await deleteStreams(nc, names);
      await nc.close();
    }
    await db?.dispose();
  });

  test('two controllers expand a new Sweep once, and so does a restarted one', {
    timeout: 120_000,
  }, async () => {
    const first = await startReconciler();
    const second = await startReconciler();
    const spec = { ...LONG, pruners: ['dense'], compressions: undefined, seeds: 2, maxParallel: 1 };
    delete spec.compressions;
    await cli.apply('twice', spec);
    const expanded = await waitFor(
      'the Sweep expanded and its status written',
      async () => {
        const object = await getObject('twice');
        return object.status?.counts ? object : null;
      },
      30_000,
    );
    assert.equal(expanded.status?.counts?.total, 2);
    await stopReconciler(first);
    await stopReconciler(second);
    // A restart: a new reconciler over the same objects and database.
    const restarted = await startReconciler();
    await restarted.sweeps.idle();
    await restarted.sweeps.idle();
    const sweep = (await db.store.findSweep('twice'))!;
    assert.equal((await db.store.listTrials(sweep.id)).length, 2, 'two trials, not four');
    const added = expansions.filter((e) => e.sweep === 'twice').map((e) => e.addedTrials);
    assert.equal(
      added.reduce((a, b) => Number(a) + Number(b), 0),
      2,
      `trials added over every expansion: ${added}`,
    );
    // The audit log: the finalizer was set once (a racing controller's write is refused: 409).
    const finalizerWrites = cluster.server.audit.entries.filter(
      (e) => e.verb === 'update' && e.resource === 'sweeps' && e.name === 'twice' && e.code < 300,
    );
    assert.equal(finalizerWrites.length, 1, JSON.stringify(finalizerWrites));
    assert.equal(sweep.resourceUid, expanded.metadata.uid);
    // Not needed further: its trials would take the cores from the next test.
    await cli.delete('twice');
    await waitFor('twice deleted', async () => (await cli.get('twice')) === null, 30_000);
  });

  test('esweep sweep submit --backend kubernetes runs a sweep to Completed, read through the API', {
    timeout: 540_000,
  }, async () => {
    if (reconcilers.length === 0) await startReconciler();
    const file = join(cluster.dir, 'quick.yaml');
    await writeFile(file, QUICK);
    const submit = await runCli(
      ['sweep', 'submit', file, '--backend', 'kubernetes', '--cluster', settingsFile, '--json'],
      userEnv(),
    );
    assert.equal(submit.code, 0, submit.stderr);
    const submitted = JSON.parse(submit.stdout);
    assert.deepEqual([submitted.created, submitted.trials], [true, 4]);
    const seen: string[] = [];
    const done = await waitFor(
      'the Sweep object to finish',
      async () => {
        const object = await getObject('quick');
        const phase = object.status?.phase;
        if (phase && seen.at(-1) !== phase) seen.push(phase);
        return phase === 'Completed' || phase === 'Failed' ? object : null;
      },
      { timeoutMs: 500_000, intervalMs: 250 },
    );
    assert.equal(done.status?.phase, 'Completed', JSON.stringify(done.status?.conditions));
    assert.deepEqual(done.status?.counts, {
      total: 4,
      pending: 0,
      queued: 0,
      running: 0,
      completed: 4,
      failed: 0,
      cancelled: 0,
    });
    assert.equal(done.status?.progress, '4/4');
    assert.ok(seen.includes('Running') && seen.at(-1) === 'Completed', `phases seen: ${seen}`);
    assert.ok(done.status?.startedAt && done.status?.finishedAt);
    assert.equal(done.status?.observedGeneration, done.metadata.generation);
    const succeeded = done.status?.conditions?.find((c) => c.type === 'Succeeded');
    assert.deepEqual([succeeded?.status, succeeded?.reason], ['True', 'Completed']);
    // The best result per pruner at each of the sweep's compressions: 1 pruner × 2 types × 2.
    assert.equal(done.status?.best?.length, 4);
    for (const b of done.status?.best ?? []) assert.ok(b.accuracy > 0 && b.accuracy <= 1);
    // The CLI reads the same from the object, without a database.
    const status = await runCli(['sweep', 'status', 'quick', '--cluster', settingsFile, '--json'], userEnv());
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).status.phase, 'Completed');
    // Results stay where they were: in the database.
    const sweep = (await db.store.findSweep('quick'))!;
    assert.equal((await db.store.sweepResults(sweep.id, { completedOnly: true })).length, 4);
    assert.equal(
      cluster.server.audit.entries.filter(
        (e) => e.verb === 'create' && e.resource === 'jobs' && e.name?.startsWith('quick') && e.code < 300,
      ).length,
      4,
    );
  });

  test('deleting a running Sweep cancels its Jobs and keeps the finished results', {
    timeout: 300_000,
  }, async () => {
    if (reconcilers.length === 0) await startReconciler();
    await cli.apply('doomed', LONG);
    await waitFor(
      'a finished trial and one in flight',
      async () => {
        const counts = (await getObject('doomed')).status?.counts;
        return counts && counts.completed >= 1 && counts.queued + counts.running >= 1;
      },
      { timeoutMs: 240_000, intervalMs: 100 },
    );
    const cancel = await runCli(
      ['sweep', 'cancel', 'doomed', '--cluster', settingsFile, '--json'],
      userEnv(),
    );
    assert.equal(cancel.code, 0, cancel.stderr);
    await waitFor('the object gone', async () => (await cli.get('doomed')) === null, 30_000);
    const sweep = (await db.store.findSweep('doomed'))!;
    const counts = await db.store.statusCounts(sweep.id);
    assert.equal(sweep.status, 'cancelled');
    assert.ok(counts.completed >= 1, JSON.stringify(counts));
    assert.ok(counts.cancelled >= 1, JSON.stringify(counts));
    assert.equal(counts.pending + counts.queued + counts.running, 0);
    assert.equal((await db.store.sweepResults(sweep.id, { completedOnly: true })).length, counts.completed);
    await waitFor(
      "the sweep's active Jobs deleted",
      () =>
        backend
          .runs()
          .filter((r) => r.sweepId === sweep.id && (r.phase === 'pending' || r.phase === 'running'))
          .length === 0,
      30_000,
    );
    assert.ok(
      cluster.server.audit.entries.some(
        (e) => e.verb === 'delete' && e.resource === 'jobs' && e.name?.startsWith('doomed'),
      ),
      'a Job of the deleted sweep was deleted',
    );
  });

  test('an invalid spec: the API refuses what the schema says, the controller flags the rest', {
    timeout: 240_000,
  }, async () => {
    if (reconcilers.length === 0) await startReconciler();
    const refused = await cli.apply('typo', { ...LONG, pruners: ['snipp'] }).catch((error) => error);
    assert.equal(statusCode(refused), 422);
    assert.match(String(refused.body), /spec\.pruners\[0\]/);
    await cli.apply('bad-target', { ...LONG, compressions: [0.5] });
    const invalid = await waitFor(
      'the Invalid condition',
      async () => {
        const object = await getObject('bad-target');
        return object.status?.phase === 'Invalid' ? object : null;
      },
      30_000,
    );
    const accepted = invalid.status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.reason, 'Invalid');
    assert.match(accepted!.message, /compressions\[0\]: a compression must be ≥ 1/);
    assert.equal(await db.store.findSweep('bad-target'), null, 'nothing expanded');
    const status = await runCli(['sweep', 'status', 'bad-target', '--cluster', settingsFile], userEnv());
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Invalid/);
    assert.ok(invalid.status?.observedGeneration === invalid.metadata.generation);
  });
});
