// The Sweep client against the fake API server with the generated CRD installed: create then update
// (a new generation), the informer's view, finalizers holding a deletion, status writes that lose a
// race without failing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiextensionsV1Api, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { type FakeCluster, startFakeCluster, waitFor } from '../../../test/fake-kube/support.ts';
import { sweepCrd } from '../../sweep/crd.ts';
import { SWEEP_FINALIZER } from '../../sweep/resource.ts';
import { SweepClient, statusCode } from './sweep-client.ts';

const SPEC = { architectures: ['lenet300100'], pruners: ['snip'], compressions: [10] };

describe('SweepClient on the fake API server', () => {
  let cluster: FakeCluster;
  let client: SweepClient;
  before(async () => {
    cluster = await startFakeCluster();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: cluster.config.server!, skipTLSVerify: true }],
      users: [{ name: 'admin' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'admin' }],
      currentContext: 'fake',
    });
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .createCustomResourceDefinition({ body: sweepCrd() as V1CustomResourceDefinition });
    client = new SweepClient(cluster.config, { restartDelayMs: 50 });
  });
  after(async () => {
    await client?.close();
    await cluster?.close();
  });

  test('create, update (new generation), finalizer, status and delete', async () => {
    await client.start();
    const created = await client.apply('s1', SPEC);
    assert.equal(created.created, true);
    assert.equal(created.object.metadata.generation, 1);
    const updated = await client.apply('s1', { ...SPEC, compressions: [10, 100] });
    assert.equal(updated.created, false);
    assert.equal(updated.object.metadata.generation, 2);
    assert.deepEqual((await client.get('s1'))?.spec, { ...SPEC, compressions: [10, 100] });
    const seen = await waitFor('the informer to see generation 2', () =>
      client.objects().find((o) => o.metadata.name === 's1' && o.metadata.generation === 2),
    );
    await client.setFinalizers(seen, [SWEEP_FINALIZER]);
    const held = (await client.get('s1'))!;
    await client.writeStatus(held, { phase: 'Pending', observedGeneration: 2 });
    assert.equal((await client.get('s1'))?.status?.phase, 'Pending');
    // A write from a stale copy loses (409) quietly: the watch brings the newer object.
    await client.writeStatus(held, { phase: 'Running', observedGeneration: 2 });
    assert.equal((await client.get('s1'))?.status?.phase, 'Pending');
    assert.equal(await client.delete('s1'), true);
    const deleting = (await client.get('s1'))!;
    assert.ok(deleting.metadata.deletionTimestamp, 'the finalizer holds it');
    await client.setFinalizers(deleting, []);
    await waitFor('the object gone', async () => (await client.get('s1')) === null);
    await waitFor('the informer to drop it', () => !client.objects().some((o) => o.metadata.name === 's1'));
    assert.equal(await client.delete('s1'), false);
  });

  test('the API server validates the spec against the generated schema', async () => {
    const error = await client.apply('bad', { ...SPEC, types: ['indirect'] }).catch((e) => e);
    assert.equal(statusCode(error), 422);
    assert.match(String(error.body), /spec\.types\[0\]/);
  });
});
