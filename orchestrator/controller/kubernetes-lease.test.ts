import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeCluster, startFakeCluster, waitFor } from '../../test/fake-kube/support.ts';
import { kubeConfigFor } from '../scheduler/kubernetes/backend.ts';
import { KubernetesLeaseClient } from './kubernetes-lease.ts';
import { LeaderElector, type LeaderEvent, LeaseConflictError } from './leader.ts';

const NAMESPACE = 'esweep-test';
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

describe('leader election through @kubernetes/client-node against the fake API server', () => {
  let cluster: FakeCluster;
  before(async () => {
    cluster = await startFakeCluster();
  });
  after(() => cluster.close());

  const clientFor = (identity: string, name: string) =>
    new KubernetesLeaseClient(kubeConfigFor(cluster.config), {
      namespace: NAMESPACE,
      name,
      userAgent: `esweep-controller/${identity}`,
    });
  const signal = () => new AbortController().signal;

  test('get, create and conditional update map onto the Lease API (404 → none, 409 → conflict)', async () => {
    const client = clientFor('a', 'lease-api');
    assert.equal(await client.get(signal()), null);
    const now = new Date();
    const spec = {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    const created = await client.create(spec, signal());
    await assert.rejects(client.create(spec, signal()), LeaseConflictError);
    const read = await client.get(signal());
    assert.equal(read?.resourceVersion, created.resourceVersion);
    assert.equal(read?.spec.holderIdentity, 'a');
    assert.equal(read?.spec.renewTime.getTime(), now.getTime());
    const renewed = await client.update(
      { ...spec, renewTime: new Date() },
      created.resourceVersion,
      signal(),
    );
    assert.notEqual(renewed.resourceVersion, created.resourceVersion);
    await assert.rejects(
      client.update({ ...spec, holderIdentity: 'b' }, created.resourceVersion, signal()),
      LeaseConflictError,
      'a stale resourceVersion loses',
    );
    const stored = cluster.server.store.get('leases', NAMESPACE, 'lease-api');
    assert.equal((stored?.spec as { holderIdentity?: string } | undefined)?.holderIdentity, 'a');
  });

  test('two candidates: one leads, the audit log names each by its User-Agent; release hands over at once', async () => {
    const events = new Map<string, LeaderEvent[]>();
    const elector = (identity: string) => {
      events.set(identity, []);
      return new LeaderElector({
        identity,
        client: clientFor(identity, 'esweep-controller'),
        log: (event) => events.get(identity)!.push(event),
        ...TIMING,
      });
    };
    const a = elector('a');
    const b = elector('b');
    const stopA = new AbortController();
    const stopB = new AbortController();
    const leading = new Set<string>();
    const lead = (identity: string) => async (term: AbortSignal) => {
      leading.add(identity);
      assert.equal(leading.size, 1, `two leaders: ${[...leading].join(', ')}`);
      await new Promise((resolve) => term.addEventListener('abort', resolve, { once: true }));
      leading.delete(identity);
    };
    const endA = a.run(stopA.signal, lead('a'));
    await waitFor('a leads', () => a.isLeader());
    const endB = b.run(stopB.signal, lead('b'));
    // b keeps reading the lease for a few retry periods and leaves it alone.
    await waitFor('b sees a as the leader', () => b.leader() === 'a');
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMING.retryPeriodMs));
    assert.ok(!b.isLeader());

    stopA.abort();
    assert.equal(await endA, 'stopped');
    const releasedAt = Date.now();
    await waitFor('b takes over', () => b.isLeader(), 10_000);
    const takeover = Date.now() - releasedAt;
    stopB.abort();
    assert.equal(await endB, 'stopped');

    assert.ok(events.get('a')!.some((e) => e.event === 'lead released'));
    const leaseWrites = cluster.server.audit.entries.filter(
      (e) => e.resource === 'leases' && e.name === 'esweep-controller',
    );
    const agents = new Set(leaseWrites.map((e) => e.userAgent));
    assert.deepEqual([...agents].sort(), ['esweep-controller/a', 'esweep-controller/b']);
    assert.ok(
      leaseWrites.every((e) => e.code < 300 || e.code === 409),
      JSON.stringify(leaseWrites),
    );
    const stored = cluster.server.store.get('leases', NAMESPACE, 'esweep-controller');
    const spec = stored?.spec as { holderIdentity?: string; leaseTransitions?: number };
    assert.equal(spec.holderIdentity, '', 'b released it too');
    assert.equal(spec.leaseTransitions, 1, 'a → b');
    // After a release the next try of a candidate takes it: within one (jittered) retry period.
    assert.ok(takeover < TIMING.leaseDurationMs, `took ${takeover} ms`);
  });
});
