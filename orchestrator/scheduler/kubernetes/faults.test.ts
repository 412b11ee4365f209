// The kubernetes backend against the faults a real API server and cluster produce, injected by the
// fake (test/fake-kube/faults.ts, kueue.ts) and met by the real @kubernetes/client-node.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FaultInjector,
  type InjectedFault,
  type InterceptedRequest,
  parseFaults,
} from '../../../test/fake-kube/faults.ts';
import { FakeKueue } from '../../../test/fake-kube/kueue.ts';
import { type FakeCluster, startFakeCluster, waitFor } from '../../../test/fake-kube/support.ts';
import type { RunRequest } from '../backend.ts';
import { runName } from '../names.ts';
import { KubernetesBackend } from './backend.ts';
import { jobManifest, LABELS } from './manifest.ts';
import { DEFAULT_RETRY } from './retry.ts';

let counter = 0;
function request(seed: number): RunRequest {
  counter++;
  return {
    sweepId: 'sweep1',
    sweepName: 'faults',
    trialId: `trial${counter}`,
    trialKey: `${String(counter).padStart(16, '0')}`,
    attempt: 1,
    spec: {
      arch: 'lenet300100',
      dataset: 'mnist',
      pruner: 'random/igq',
      type: 'direct',
      compression: 10,
      seed,
    },
    dependsOnTrialId: null,
    resources: { gpu: 1 },
  };
}
const nameOf = (r: RunRequest) => runName(r.sweepName, r.trialKey, r.attempt);

/** Short backoffs so the tests spend little time waiting; the shape is the production one. */
const FAST_RETRY = { ...DEFAULT_RETRY, backoff: { initialMs: 20, maxMs: 200, jitter: true } };

describe('kubernetes backend under API-server faults (real client, fake API server)', () => {
  let cluster: FakeCluster;
  let backend: KubernetesBackend;
  let hook: (request: InterceptedRequest) => InjectedFault | null = () => null;
  const log: Record<string, unknown>[] = [];
  const seen: { time: number; request: InterceptedRequest; answered: number | null }[] = [];

  before(async () => {
    cluster = await startFakeCluster(
      {
        intercept: (r) => {
          const answer = hook(r);
          seen.push({ time: Date.now(), request: r, answered: answer?.code ?? null });
          return answer;
        },
      },
      { stuckPodTimeoutSeconds: 1 },
    );
    backend = new KubernetesBackend(cluster.config, {
      restartDelayMs: 20,
      retry: FAST_RETRY,
      log: (e) => log.push(e),
    });
    await backend.start();
  });
  after(async () => {
    await backend.close();
    await cluster.close();
  });
  const run = (r: RunRequest) => backend.runs().find((s) => s.name === nameOf(r));
  const posts = () => seen.filter((s) => s.request.verb === 'create' && s.request.resource === 'jobs');

  test('429 with Retry-After: the create waits what the server asked, once per throttle, then succeeds', async () => {
    let throttled = 0;
    hook = (r) => (r.verb === 'create' && throttled++ < 2 ? { code: 429, retryAfterSeconds: 1 } : null);
    const before = posts().length;
    const r = request(0);
    assert.equal(await backend.create(r), 'created');
    hook = () => null;
    const tries = posts().slice(before);
    assert.deepEqual(
      tries.map((t) => t.answered),
      [429, 429, null],
      'one request per throttle: not hammered',
    );
    for (let i = 1; i < tries.length; i++)
      assert.ok(tries[i].time - tries[i - 1].time >= 1000, `retry ${i} came before Retry-After (1 s)`);
    await waitFor('throttled Job succeeded', () => run(r)?.phase === 'succeeded');
  });

  test('a burst of 500/503: retried with jittered exponential backoff; a create that did land is the same Job', async () => {
    let failures = 0;
    hook = (r) => (r.verb === 'create' && failures < 4 ? { code: failures++ % 2 ? 503 : 500 } : null);
    const start = log.length;
    const r = request(0);
    assert.equal(await backend.create(r), 'created');
    hook = () => null;
    const retries = log.slice(start).filter((e) => e.msg === 'API retry');
    assert.deepEqual(
      retries.map((e) => e.code),
      [500, 503, 500, 503],
    );
    retries.forEach((e, i) => {
      const cap = Math.min(FAST_RETRY.backoff.maxMs, FAST_RETRY.backoff.initialMs * 2 ** i);
      assert.ok(
        (e.delayMs as number) >= 0 && (e.delayMs as number) <= cap,
        `delay ${e.delayMs} within [0, ${cap}]`,
      );
    });
    // A 500 after the write (the server stored the Job, the answer was lost): the retry finds it.
    const landed = request(0);
    await backend.create(landed);
    let once = false;
    hook = (q) => {
      if (q.verb !== 'create' || once) return null;
      once = true;
      return { code: 503 };
    };
    assert.equal(await backend.create(landed), 'exists');
    hook = () => null;
  });

  test('409 Conflict (a stale update) is retried; 409 AlreadyExists means the Job is there', async () => {
    let conflicts = 0;
    hook = (r) => (r.verb === 'create' && conflicts++ < 1 ? { code: 409 } : null);
    const r = request(0);
    assert.equal(await backend.create(r), 'created', 'a Conflict is not "exists"');
    hook = () => null;
    assert.equal(await backend.create(r), 'exists');
    assert.equal(
      cluster.server.store.list('jobs', 'esweep-test').filter((j) => j.metadata.name === nameOf(r)).length,
      1,
    );
  });

  test('410 Gone on a watch: the informer re-lists (no event lost, no Job seen twice) and carries on', async () => {
    const lists = backend.jobLists.lists;
    let gone = 0;
    let throttled = 0;
    // The re-list's first page is throttled once: its wait is part of the re-list's reported cost.
    hook = (r) =>
      r.resource !== 'jobs'
        ? null
        : r.watch
          ? gone++ < 1
            ? { code: 410 }
            : null
          : r.verb === 'list' && gone > 0 && throttled++ < 1
            ? { code: 429, retryAfterSeconds: 1 }
            : null;
    cluster.server.closeWatches();
    const r = request(0);
    await backend.create(r);
    await waitFor(
      're-listed and observed',
      () => backend.jobLists.lists > lists && run(r)?.phase === 'succeeded',
    );
    hook = () => null;
    const names = backend.runs().map((s) => s.name);
    assert.equal(new Set(names).size, names.length, 'each Job once');
    const relisted = log.filter((e) => e.msg === 'jobs re-listed').at(-1);
    assert.ok(relisted);
    assert.ok(Number(relisted.pages) >= 1);
    assert.ok(Number(relisted.tries) >= Number(relisted.pages) + 1, 'the throttled try is counted');
    assert.ok(Number(relisted.retryWaitMs) >= 1000, 'the Retry-After wait is counted');
    assert.ok(Number(relisted.ms) >= Number(relisted.retryWaitMs));
    assert.equal(typeof relisted.readCpuMs, 'number');
  });

  test('a watch event whose Job fails the slim projection is logged and skipped; the informer carries on', async () => {
    const bad = JSON.parse(JSON.stringify(jobManifest(request(0), cluster.config)));
    bad.spec.suspend = true;
    // A number where Kubernetes only ever has strings (the store takes it unvalidated).
    bad.metadata.labels[LABELS.attempt] = 1;
    cluster.server.store.create('jobs', 'esweep-test', bad);
    const logged = await waitFor('logged', () =>
      log.find((e) => e.msg === 'invalid object in a watch event, skipped'),
    );
    assert.match(String(logged.error), /watch event of a Job: metadata\.labels\.esweep\.io\/attempt: /);
    cluster.server.store.delete('jobs', 'esweep-test', bad.metadata.name);
    assert.equal(backend.runs().filter((status) => status.name === bad.metadata.name).length, 0);
    const r = request(0);
    await backend.create(r);
    await waitFor('observed after the skipped event', () => run(r)?.phase === 'succeeded');
  });

  test('an API-server restart drops every watch and connection: watches are re-established', async () => {
    const watchesBefore = seen.filter((s) => s.request.watch).length;
    cluster.server.restart();
    const r = request(0);
    await backend.create(r);
    await waitFor('observed after the restart', () => run(r)?.phase === 'succeeded');
    assert.ok(seen.filter((s) => s.request.watch).length >= watchesBefore + 2, 'both informers watch again');
  });

  test('5xx on list and watch: the informers back off and recover', async () => {
    let left = 6;
    hook = (r) => ((r.watch || r.verb === 'list') && left-- > 0 ? { code: 503 } : null);
    cluster.server.restart();
    const r = request(0);
    await backend.create(r);
    await waitFor('observed after the outage', () => run(r)?.phase === 'succeeded');
    hook = () => null;
  });

  test('a Job collected by its TTL before anyone looked still reports its outcome', async () => {
    cluster.server.jobs.ttlImmediate = true;
    try {
      const r = request(0);
      await backend.create(r);
      const status = await waitFor('gone after success', () =>
        run(r)?.goneAt !== undefined ? run(r) : undefined,
      );
      assert.equal(status.phase, 'succeeded', 'seen succeeded before its TTL removed it');
      assert.equal(cluster.server.store.get('jobs', 'esweep-test', nameOf(r)), undefined);
    } finally {
      cluster.server.jobs.ttlImmediate = false;
    }
  });

  test('pods stuck in ImagePullBackOff, Unschedulable or CrashLoopBackOff past the limit: failed with the reason', async () => {
    const cases = ['ImagePullBackOff', 'Unschedulable', 'CrashLoopBackOff'] as const;
    const requests = cases.map(() => request(0));
    for (const [i, reason] of cases.entries())
      cluster.server.jobs.stuck.push({
        reason,
        label: { key: 'esweep.io/trial', value: requests[i].trialKey },
      });
    for (const r of requests) await backend.create(r);
    for (const [i, reason] of cases.entries()) {
      const status = await waitFor(`${reason} past the limit`, () =>
        run(requests[i])?.phase === 'failed' ? run(requests[i]) : undefined,
      );
      assert.equal(status.stuck, reason);
      assert.match(status.reason ?? '', new RegExp(`stuck in ${reason} for \\d+ s`));
    }
    cluster.server.jobs.stuck.length = 0;
  });
});

describe('Kueue: suspended Jobs admitted within a quota, preempted back to the queue', () => {
  let cluster: FakeCluster;
  let backend: KubernetesBackend;
  let kueue: FakeKueue;
  before(async () => {
    cluster = await startFakeCluster({}, { queueName: 'research' });
    kueue = new FakeKueue(cluster.server.store, 1);
    backend = new KubernetesBackend(cluster.config, { restartDelayMs: 20 });
    await backend.start();
  });
  after(async () => {
    kueue.stop();
    await backend.close();
    await cluster.close();
  });
  const run = (r: RunRequest) => backend.runs().find((s) => s.name === nameOf(r));

  test('one admitted at a time; a preempted Job waits suspended, then runs to success in the same Job', async () => {
    const blocking = request(3); // blocks on its first pod
    const next = request(0);
    await backend.create(blocking);
    await backend.create(next);
    await waitFor('first admitted and running', () => run(blocking)?.phase === 'running');
    assert.equal(run(next)?.suspended, true, 'the quota (1) is taken: the second waits suspended');
    assert.equal(run(next)?.phase, 'pending');

    await waitFor('first pod blocking', () => existsSync(join(cluster.dir, `${nameOf(blocking)}.blocked`)));
    assert.ok(kueue.preempt('esweep-test', nameOf(blocking)));
    await waitFor('preempted Job suspended, the other admitted', () => run(blocking)?.suspended === true);
    await waitFor('second succeeded', () => run(next)?.phase === 'succeeded', 30_000);
    // The quota is free again: the preempted Job is readmitted, its pod restarts and succeeds.
    const done = await waitFor(
      'preempted Job readmitted and succeeded',
      () => (run(blocking)?.phase === 'succeeded' ? run(blocking) : undefined),
      30_000,
    );
    assert.equal(done.badInput, false);
    assert.ok(done.resumedAt !== undefined, 'the readmission time is known');
    const job = cluster.server.store.get('jobs', 'esweep-test', nameOf(blocking)) as {
      status: { failed?: number };
    };
    assert.equal(job.status.failed ?? 0, 0, 'the pod deleted by the preemption is no failure');
    assert.equal(kueue.preemptions, 1);
  });
});

test('parseFaults: the documented syntax, seeded draws, errors naming the entry', () => {
  const spec = parseFaults('429=0.05,500=0.02,503=0.02,410=0.1,restart=30s,seed=1');
  assert.equal(spec.throttle, 0.05);
  assert.equal(spec.restartEveryMs, 30_000);
  assert.deepEqual(parseFaults('stuck=ImagePullBackOff:image=nope:1,ttl=0').stuck, [
    { reason: 'ImagePullBackOff', image: 'nope:1' },
  ]);
  assert.throws(() => parseFaults('429=2'), /429=2: a rate is a probability/);
  assert.throws(() => parseFaults('bogus=1'), /unknown fault 'bogus'/);
  assert.throws(() => parseFaults('stuck=Sleepy:a=b'), /REASON one of/);
  const draws = (seed: number) => {
    const injector = new FaultInjector(parseFaults(`429=0.3,500=0.1,410=0.5,seed=${seed}`));
    return Array.from(
      { length: 200 },
      (_, i) =>
        injector.intercept({
          method: 'GET',
          verb: i % 3 ? 'get' : 'watch',
          resource: 'jobs',
          watch: i % 3 === 0,
        })?.code ?? 0,
    );
  };
  assert.deepEqual(draws(7), draws(7), 'same seed, same faults');
  assert.notDeepEqual(draws(7), draws(8));
  assert.ok(draws(7).includes(429) && draws(7).includes(410) && draws(7).includes(500));
});
