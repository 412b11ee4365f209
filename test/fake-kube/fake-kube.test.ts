import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  makeInformer,
  type V1Job,
  Watch,
} from '@kubernetes/client-node';
import { parseSelector } from './selector.ts';
import { type FakeCluster, fakeKubeConfig, startFakeCluster, waitFor } from './support.ts';

const NS = 'esweep-test';

function clientFor(url: string) {
  const kc = fakeKubeConfig(url);
  return { kc, batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
}

/** A Job whose pod runs `node -e script`. */
function job(
  name: string,
  script: string,
  labels: Record<string, string> = {},
  spec: Partial<V1Job['spec']> = {},
) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'fake-test', ...labels } },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { app: 'fake-test' } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'worker', image: 'x', command: [process.execPath, '-e', script] }],
        },
      },
      ...spec,
    },
  } satisfies V1Job;
}

async function apiError(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiException, String(error));
    return error.code;
  }
  assert.fail('expected an ApiException');
}

const condition = (j: V1Job | undefined, type: string) => j?.status?.conditions?.find((c) => c.type === type);

describe('fake Kubernetes API server', () => {
  let cluster: FakeCluster;
  let api: ReturnType<typeof clientFor>;
  before(async () => {
    cluster = await startFakeCluster({ msPerSecond: 200, bookmarkIntervalMs: 100 });
    api = clientFor(cluster.server.url);
  });
  after(() => cluster.close());

  test('label selectors', () => {
    const labels = { app: 'esweep', tier: 'gpu' };
    assert.equal(parseSelector('app=esweep,tier in (gpu, cpu)')(labels), true);
    assert.equal(parseSelector('app==esweep,!missing,tier')(labels), true);
    assert.equal(parseSelector('app!=esweep')(labels), false);
    assert.equal(parseSelector('tier notin (gpu)')(labels), false);
    assert.equal(parseSelector('missing')(labels), false);
    assert.throws(() => parseSelector('a=(b'));
  });

  test('create, get, list by label, 409 on a duplicate, delete and 404 through the real client', async () => {
    const created = await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('crud-a', 'process.exit(0)', { group: 'one' }),
    });
    assert.ok(Number(created.metadata?.resourceVersion) > 0);
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('crud-b', 'process.exit(0)', { group: 'two' }),
    });
    assert.equal(
      await apiError(api.batch.createNamespacedJob({ namespace: NS, body: job('crud-a', '') })),
      409,
    );
    const one = await api.batch.listNamespacedJob({ namespace: NS, labelSelector: 'group=one' });
    assert.deepEqual(
      one.items.map((j) => j.metadata?.name),
      ['crud-a'],
    );
    assert.equal(
      (await api.batch.readNamespacedJob({ name: 'crud-b', namespace: NS })).metadata?.labels?.group,
      'two',
    );
    assert.equal(await apiError(api.batch.readNamespacedJob({ name: 'nope', namespace: NS })), 404);
    await waitFor('both jobs complete', async () => {
      const list = await api.batch.listNamespacedJob({ namespace: NS, labelSelector: 'group' });
      return list.items.every((j) => condition(j, 'Complete')?.status === 'True');
    });
    await api.batch.deleteNamespacedJob({ name: 'crud-a', namespace: NS, propagationPolicy: 'Background' });
    await api.batch.deleteNamespacedJob({ name: 'crud-b', namespace: NS, propagationPolicy: 'Background' });
    assert.equal(await apiError(api.batch.deleteNamespacedJob({ name: 'crud-a', namespace: NS })), 404);
    const pods = await api.core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'job-name in (crud-a, crud-b)',
    });
    assert.equal(pods.items.length, 0, 'background propagation removes the pods');
  });

  test('the kubelet runs the command with its env; pod failure policy and backoff decide the Job', async () => {
    await api.core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'creds' }, data: { token: Buffer.from('s3cret').toString('base64') } },
    });
    const withEnv = job(
      'env-check',
      'process.exit(process.env.TOKEN === "s3cret" && process.env.POD.startsWith("env-check-") ? 0 : 9)',
    );
    withEnv.spec.template.spec!.containers[0] = {
      ...withEnv.spec.template.spec!.containers[0],
      env: [
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
    };
    const policy = {
      rules: [
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        { action: 'FailJob', onExitCodes: { containerName: 'worker', operator: 'In', values: [2] } },
      ],
    };
    await api.batch.createNamespacedJob({ namespace: NS, body: withEnv });
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('bad-input', 'process.exit(2)', {}, { backoffLimit: 3, podFailurePolicy: policy }),
    });
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('crashes', 'process.exit(1)', {}, { backoffLimit: 1, podFailurePolicy: policy }),
    });
    const read = (name: string) => api.batch.readNamespacedJob({ name, namespace: NS });
    await waitFor('env-check completes', async () => condition(await read('env-check'), 'Complete'));
    const badInput = await waitFor('bad-input fails', async () =>
      condition(await read('bad-input'), 'Failed'),
    );
    assert.equal(badInput.reason, 'PodFailurePolicy');
    const crashes = await waitFor('crashes fails', async () => condition(await read('crashes'), 'Failed'));
    assert.equal(crashes.reason, 'BackoffLimitExceeded');
    assert.equal((await read('crashes')).status?.failed, 2, 'one pod plus backoffLimit 1 retry');
    const pods = await api.core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=crashes' });
    assert.equal(pods.items.length, 2);
    assert.ok(pods.items.every((p) => p.status?.phase === 'Failed'));

    // Evicted: DisruptionTarget is ignored by the policy, so a replacement pod runs and succeeds.
    const marker = `${cluster.dir}/evict-marker`;
    const script = `const fs=require('fs');if(!fs.existsSync(${JSON.stringify(marker)})){fs.writeFileSync(${JSON.stringify(marker)},'');setInterval(()=>{},1000)}`;
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('evicted', script, {}, { backoffLimit: 0, podFailurePolicy: policy }),
    });
    const first = await waitFor('a running pod', async () => {
      const list = await api.core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=evicted' });
      return list.items.find((p) => p.status?.phase === 'Running');
    });
    await waitFor('the first pod to block', () => existsSync(marker));
    await api.core.createNamespacedPodEviction({
      name: first.metadata!.name!,
      namespace: NS,
      body: { metadata: { name: first.metadata!.name!, namespace: NS } },
    });
    await waitFor('evicted job completes', async () => condition(await read('evicted'), 'Complete'));
    const evictedPods = await api.core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'job-name=evicted',
    });
    const disrupted = evictedPods.items.find((p) => p.metadata?.name === first.metadata?.name);
    assert.equal(disrupted?.status?.conditions?.find((c) => c.type === 'DisruptionTarget')?.status, 'True');
    assert.equal(evictedPods.items.length, 2);
    assert.equal((await read('evicted')).status?.failed ?? 0, 0, 'an ignored failure is not counted');
  });

  test('activeDeadlineSeconds fails a Job and ttlSecondsAfterFinished deletes it', async () => {
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job(
        'too-slow',
        'setInterval(()=>{},1000)',
        {},
        { activeDeadlineSeconds: 1, ttlSecondsAfterFinished: 1 },
      ),
    });
    const failed = await waitFor('deadline', async () => {
      const j = await api.batch.readNamespacedJob({ name: 'too-slow', namespace: NS });
      return condition(j, 'Failed');
    });
    assert.equal(failed.reason, 'DeadlineExceeded');
    await waitFor('ttl deletion', async () => {
      const list = await api.batch.listNamespacedJob({ namespace: NS, labelSelector: 'app' });
      return !list.items.some((j) => j.metadata?.name === 'too-slow');
    });
    assert.equal(cluster.server.jobs.runningProcesses, 0);
  });

  test('watch streams: informer ADDED/MODIFIED/DELETED, resume, 410 Gone re-list, BOOKMARK', async () => {
    const informer = makeInformer<V1Job>(
      api.kc,
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      () => api.batch.listNamespacedJob({ namespace: NS, labelSelector: 'watched=yes' }),
      'watched=yes',
    );
    const seen: string[] = [];
    informer.on('add', (j) => seen.push(`add ${j.metadata?.name}`));
    informer.on('delete', (j) => seen.push(`delete ${j.metadata?.name}`));
    // stop() aborts the watch request, which the client reports as an error: listen only while running.
    const onError = (e: unknown) => seen.push(`error ${String(e)}`);
    informer.on('error', onError);
    await informer.start();
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('w1', 'process.exit(0)', { watched: 'yes' }),
    });
    await api.batch.createNamespacedJob({ namespace: NS, body: job('unwatched', 'process.exit(0)') });
    await waitFor('w1 completes in the cache', () => condition(informer.get('w1', NS), 'Complete'));

    // Watch ends (server restart, timeout): the informer resumes from its resourceVersion.
    cluster.server.closeWatches();
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('w2', 'process.exit(0)', { watched: 'yes' }),
    });
    await waitFor('w2 after resume', () => informer.get('w2', NS));

    // History compacted while disconnected: 410 Gone, the informer re-lists and still sees changes.
    informer.off('error', onError);
    await informer.stop();
    await api.batch.deleteNamespacedJob({ name: 'w1', namespace: NS, propagationPolicy: 'Background' });
    await api.batch.createNamespacedJob({
      namespace: NS,
      body: job('w3', 'process.exit(0)', { watched: 'yes' }),
    });
    cluster.server.store.compact();
    informer.on('error', onError);
    await informer.start();
    await waitFor('w3 after re-list', () => informer.get('w3', NS));
    assert.equal(informer.get('w1', NS), undefined);
    assert.ok(seen.includes('delete w1'), seen.join(', '));
    assert.ok(!seen.some((s) => s.includes('unwatched')));
    assert.ok(!seen.some((s) => s.startsWith('error')), seen.join(', '));
    informer.off('error', onError);
    await informer.stop();

    // A raw watch from an expired resourceVersion gets the 410 ERROR event; bookmarks when asked.
    const events: { type: string; code?: number }[] = [];
    const watch = new Watch(api.kc);
    const gone = await new Promise<unknown>((resolve) => {
      watch.watch(
        `/apis/batch/v1/namespaces/${NS}/jobs`,
        { resourceVersion: '2' },
        (type, object) => events.push({ type, code: object.code }),
        resolve,
      );
    });
    assert.equal(gone, null);
    assert.deepEqual(events, [{ type: 'ERROR', code: 410 }]);
    const bookmarks: string[] = [];
    const request = await watch.watch(
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      { allowWatchBookmarks: true, resourceVersion: cluster.server.store.resourceVersion },
      (type, object) => bookmarks.push(`${type} ${object.metadata?.resourceVersion}`),
      () => {},
    );
    await waitFor('a bookmark', () => bookmarks.some((b) => b.startsWith('BOOKMARK ')), 5000);
    request.abort();
  });
});
