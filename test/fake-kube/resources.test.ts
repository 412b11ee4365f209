import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Lease,
  Watch,
} from '@kubernetes/client-node';
import { type FakeCluster, fakeKubeConfig, startFakeCluster, waitFor } from './support.ts';

const NS = 'esweep-test';

function clients(url: string) {
  const kc = fakeKubeConfig(url);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    leases: kc.makeApiClient(CoordinationV1Api),
    crds: kc.makeApiClient(ApiextensionsV1Api),
  };
}

/** The ApiException a call fails with, and its Status body. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ code: number; status: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiException, String(error));
    return { code: error.code, status: JSON.parse(String(error.body)) };
  }
  assert.fail('expected an ApiException');
}

/** MicroTime as the API server wants it: six fractional digits. */
const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const lease = (name: string, holder: string): V1Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name },
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: microTime(new Date()) as unknown as Date,
    renewTime: microTime(new Date()) as unknown as Date,
    leaseTransitions: 0,
  },
});

describe('fake API server: generic resources', () => {
  let cluster: FakeCluster;
  let api: ReturnType<typeof clients>;
  before(async () => {
    cluster = await startFakeCluster({ mode: 'instant' });
    api = clients(cluster.server.url);
  });
  after(() => cluster.close());

  test('lists page by limit and continue in key order; a continue token from a compacted version is 410 Expired', async () => {
    const names = ['page-c', 'page-a', 'page-e', 'page-b', 'page-d'];
    for (const name of names)
      await api.leases.createNamespacedLease({ namespace: NS, body: lease(name, 'x') });
    const ours = (items: V1Lease[]) =>
      items.map((l) => l.metadata!.name!).filter((name) => name.startsWith('page-'));
    const seen: string[] = [];
    const versions = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await api.leases.listNamespacedLease({ namespace: NS, limit: 2, _continue: token });
      assert.ok(page.items.length <= 2, 'a page holds at most `limit` objects');
      seen.push(...ours(page.items));
      versions.add(page.metadata!.resourceVersion!);
      token = page.metadata?._continue;
      pages++;
    } while (token);
    assert.deepEqual(seen, [...names].sort(), 'every object once, in key order');
    assert.ok(pages >= 3);
    assert.equal(versions.size, 1, 'every page reports the version the list began at');

    const first = await api.leases.listNamespacedLease({ namespace: NS, limit: 1 });
    await api.leases.createNamespacedLease({ namespace: NS, body: lease('page-f', 'x') });
    cluster.server.store.compact();
    const expired = await failure(
      api.leases.listNamespacedLease({ namespace: NS, limit: 1, _continue: first.metadata?._continue }),
    );
    assert.equal(expired.code, 410);
    assert.equal(expired.status.reason, 'Expired');
  });

  test('Leases: create, read, replace with optimistic concurrency (409 on a stale resourceVersion)', async () => {
    const created = await api.leases.createNamespacedLease({ namespace: NS, body: lease('leader', 'a') });
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.creationTimestamp instanceof Date);
    assert.equal(created.metadata?.generation, 1);
    const read = await api.leases.readNamespacedLease({ name: 'leader', namespace: NS });
    assert.equal(read.spec?.holderIdentity, 'a');

    const renewed = structuredClone(lease('leader', 'b'));
    renewed.metadata = { ...read.metadata };
    const replaced = await api.leases.replaceNamespacedLease({
      name: 'leader',
      namespace: NS,
      body: renewed,
    });
    assert.equal(replaced.spec?.holderIdentity, 'b');
    assert.equal(replaced.metadata?.generation, 2, 'a spec change increments generation');
    assert.equal(replaced.metadata?.uid, created.metadata?.uid);
    assert.ok(Number(replaced.metadata?.resourceVersion) > Number(read.metadata?.resourceVersion));

    // Someone else's replace based on the old read loses, as with a real API server.
    const stale = structuredClone(lease('leader', 'c'));
    stale.metadata = { ...read.metadata };
    const conflict = await failure(
      api.leases.replaceNamespacedLease({ name: 'leader', namespace: NS, body: stale }),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.status.reason, 'Conflict');
    assert.match(
      String(conflict.status.message),
      /^Operation cannot be fulfilled on leases\.coordination\.k8s\.io "leader": the object has been modified/,
    );
    assert.equal(
      (await api.leases.readNamespacedLease({ name: 'leader', namespace: NS })).spec?.holderIdentity,
      'b',
    );

    // A Date serialized by the client (milliseconds) is refused, as kube-apiserver's MicroTime decoder does.
    const jsDates = lease('js-dates', 'a');
    jsDates.spec!.renewTime = new Date();
    const decoding = await failure(api.leases.createNamespacedLease({ namespace: NS, body: jsDates }));
    assert.equal(decoding.code, 400);
    assert.match(String(decoding.status.message), /cannot parse "\.\d{3}Z" as "\.000000"/);
    assert.equal((await failure(api.leases.readNamespacedLease({ name: 'nope', namespace: NS }))).code, 404);
  });

  test('PATCH: merge, JSON and strategic-merge patches; a patch carrying a stale resourceVersion conflicts', async () => {
    await api.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'patched', labels: { a: '1', b: '2' } }, data: { x: '1' } },
    });
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const merged = await api.core.patchNamespacedConfigMap(
      {
        name: 'patched',
        namespace: NS,
        body: { metadata: { labels: { b: null, c: '3' } }, data: { y: '2' } },
      },
      merge,
    );
    assert.deepEqual(merged.metadata?.labels, { a: '1', c: '3' });
    assert.deepEqual(merged.data, { x: '1', y: '2' });
    const json = await api.core.patchNamespacedConfigMap(
      {
        name: 'patched',
        namespace: NS,
        body: [
          { op: 'test', path: '/data/x', value: '1' },
          { op: 'replace', path: '/data/x', value: '10' },
          { op: 'remove', path: '/data/y' },
          { op: 'add', path: '/metadata/labels/d~1e', value: '4' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.deepEqual(json.data, { x: '10' });
    assert.equal(json.metadata?.labels?.['d/e'], '4');
    const strategic = await api.core.patchNamespacedConfigMap(
      { name: 'patched', namespace: NS, body: { data: { z: '5' } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(strategic.data, { x: '10', z: '5' });
    const stale = await failure(
      api.core.patchNamespacedConfigMap(
        { name: 'patched', namespace: NS, body: { metadata: { resourceVersion: '2' }, data: { x: 'lost' } } },
        merge,
      ),
    );
    assert.equal(stale.code, 409);
    const failedTest = await failure(
      api.core.patchNamespacedConfigMap(
        { name: 'patched', namespace: NS, body: [{ op: 'test', path: '/data/x', value: 'other' }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    assert.equal(failedTest.code, 422);
    const apply = await failure(
      api.core.patchNamespacedConfigMap(
        { name: 'patched', namespace: NS, body: { data: {} } },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
    assert.equal(apply.code, 415);
    assert.equal(
      (await api.core.readNamespacedConfigMap({ name: 'patched', namespace: NS })).data?.x,
      '10',
      'refused patches change nothing',
    );
  });

  test('cluster-scoped CustomResourceDefinitions and cluster-wide lists', async () => {
    await api.core.createNamespacedSecret({ namespace: 'other', body: { metadata: { name: 's1' } } });
    await api.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 's2' } } });
    const all = await api.core.listSecretForAllNamespaces({});
    assert.deepEqual(all.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`).sort(), [
      `${NS}/s2`,
      'other/s1',
    ]);
    const byName = await api.core.listSecretForAllNamespaces({ fieldSelector: 'metadata.name=s1' });
    assert.deepEqual(
      byName.items.map((s) => s.metadata?.name),
      ['s1'],
    );
    const crd = await api.crds.createCustomResourceDefinition({
      body: {
        metadata: { name: 'widgets.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    assert.equal(crd.metadata?.namespace, undefined);
    assert.equal(
      (await api.crds.readCustomResourceDefinition({ name: 'widgets.example.com' })).spec.names.kind,
      'Widget',
    );
  });

  test('finalizers hold a deletion; garbage collection by ownerReferences follows the propagation policy', async () => {
    const events: string[] = [];
    const request = await new Watch(api.kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: cluster.server.store.resourceVersion },
      (type, object) =>
        events.push(
          `${type} ${object.metadata.name} ${object.metadata.deletionTimestamp ? 'deleting' : ''}`.trim(),
        ),
      () => {},
    );
    await api.core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'held', finalizers: ['example.com/cleanup'] } },
    });
    const deleting = await api.core.deleteNamespacedConfigMap({ name: 'held', namespace: NS });
    assert.ok(deleting);
    const held = await api.core.readNamespacedConfigMap({ name: 'held', namespace: NS });
    assert.ok(held.metadata?.deletionTimestamp, 'still there, marked for deletion');
    held.metadata!.finalizers = [];
    await api.core.replaceNamespacedConfigMap({ name: 'held', namespace: NS, body: held });
    assert.equal(
      (await failure(api.core.readNamespacedConfigMap({ name: 'held', namespace: NS }))).code,
      404,
    );
    await waitFor('the DELETED event', () => events.includes('DELETED held deleting'));
    assert.deepEqual(events, ['ADDED held', 'MODIFIED held deleting', 'DELETED held deleting']);
    request.abort();

    // A Secret owned by a Job (as the controller creates one per Job): Background deletes it with
    // the Job, Orphan keeps it and drops the reference.
    for (const [name, policy] of [
      ['owner-bg', 'Background'],
      ['owner-fg', 'Foreground'],
      ['owner-orphan', 'Orphan'],
    ] as const) {
      const job = await api.batch.createNamespacedJob({
        namespace: NS,
        body: {
          metadata: { name },
          spec: {
            template: {
              spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x', command: ['true'] }] },
            },
          },
        },
      });
      await api.core.createNamespacedSecret({
        namespace: NS,
        body: {
          metadata: {
            name: `${name}-creds`,
            ownerReferences: [
              { apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata!.uid!, controller: true },
            ],
          },
        },
      });
      await waitFor(`${name}'s pod`, async () => {
        const pods = await api.core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${name}` });
        return pods.items.length > 0;
      });
      await api.batch.deleteNamespacedJob({ name, namespace: NS, propagationPolicy: policy });
    }
    const secretExists = async (name: string) =>
      (await api.core.listNamespacedSecret({ namespace: NS, fieldSelector: `metadata.name=${name}` }))
        .items[0];
    await waitFor('the Background dependent collected', async () => !(await secretExists('owner-bg-creds')));
    assert.equal(await secretExists('owner-fg-creds'), undefined, 'Foreground: gone when DELETE returns');
    const orphan = await secretExists('owner-orphan-creds');
    assert.ok(orphan, 'Orphan keeps the dependent');
    assert.equal(orphan.metadata?.ownerReferences, undefined);
    // The TTL controller deletes a finished Job in the background: its Secret goes too. A Secret
    // created for an owner that is already gone is collected as well.
    const ttl = await api.batch.createNamespacedJob({
      namespace: NS,
      body: {
        metadata: { name: 'owner-ttl' },
        spec: {
          ttlSecondsAfterFinished: 0,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x', command: ['true'] }] },
          },
        },
      },
    });
    await waitFor('the TTL deletion', async () => {
      const jobs = await api.batch.listNamespacedJob({
        namespace: NS,
        fieldSelector: 'metadata.name=owner-ttl',
      });
      return jobs.items.length === 0;
    });
    await api.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: {
          name: 'owner-ttl-creds',
          ownerReferences: [
            { apiVersion: 'batch/v1', kind: 'Job', name: 'owner-ttl', uid: ttl.metadata!.uid! },
          ],
        },
      },
    });
    await waitFor('the late dependent collected', async () => !(await secretExists('owner-ttl-creds')));
    const orphanPods = await api.core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'job-name=owner-orphan',
    });
    assert.equal(orphanPods.items.length, 1, 'batch/v1 Jobs orphan their pods by default and on Orphan');
  });
});
