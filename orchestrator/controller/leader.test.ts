import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LeaderElector, type LeaderEvent, type TermEnd } from './leader.ts';
import { FakeClock, MemoryLease, settle } from './test-support.ts';

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
/** The longest a candidate waits between tries. */
const MAX_RETRY_WAIT = TIMING.retryPeriodMs;

interface Candidate {
  elector: LeaderElector;
  events: LeaderEvent[];
  /** Times (fake clock) at which its term started and ended. */
  gainedAt: number[];
  endedAt: number[];
  stop: AbortController;
  ended: Promise<TermEnd>;
}

function candidate(lease: MemoryLease, clock: FakeClock, identity: string, random = Math.random): Candidate {
  const events: LeaderEvent[] = [];
  const elector = new LeaderElector({
    identity,
    client: lease.clientFor(identity),
    clock,
    random,
    log: (event) => events.push(event),
    ...TIMING,
  });
  const stop = new AbortController();
  const c: Candidate = {
    elector,
    events,
    gainedAt: [],
    endedAt: [],
    stop,
    ended: Promise.resolve('stopped'),
  };
  c.ended = elector.run(stop.signal, async (term) => {
    c.gainedAt.push(clock.now());
    await new Promise((resolve) => term.addEventListener('abort', resolve, { once: true }));
    c.endedAt.push(clock.now());
  });
  return c;
}

/** Advances the clock, checking at every step that no two candidates may act at once. */
async function runFor(clock: FakeClock, ms: number, candidates: Candidate[]): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await clock.advance(50);
    const leaders = candidates.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity);
    assert.ok(leaders.length <= 1, `two leaders at once: ${leaders.join(', ')}`);
  }
}

async function stopAll(clock: FakeClock, candidates: Candidate[]): Promise<void> {
  for (const c of candidates) c.stop.abort();
  await clock.advance(100);
  await Promise.all(candidates.map((c) => c.ended));
}

describe('leader election', () => {
  test('a lone candidate creates the lease, leads and renews it every retry period', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await settle();
    assert.ok(a.elector.isLeader());
    assert.equal(lease.record?.spec.holderIdentity, 'a');
    assert.equal(lease.record?.spec.leaseTransitions, 0);
    assert.equal(lease.record?.spec.leaseDurationSeconds, 15);
    await runFor(clock, 20_000, [a]);
    assert.equal(lease.writes.length, 1 + 10, 'one create, then a renewal every 2 s');
    assert.ok(
      lease.writes.every((w) => w.spec.acquireTime.getTime() === lease.writes[0].spec.acquireTime.getTime()),
    );
    assert.deepEqual(a.gainedAt.length, 1);
    await stopAll(clock, [a]);
    assert.equal(await a.ended, 'stopped');
  });

  test('of three candidates exactly one leads; the others only watch the lease', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const all = ['a', 'b', 'c'].map((id) => candidate(lease, clock, id));
    await runFor(clock, 60_000, all);
    const leaders = all.filter((c) => c.gainedAt.length > 0);
    assert.equal(leaders.length, 1);
    assert.ok(lease.writes.every((w) => w.identity === leaders[0].elector.identity));
    for (const c of all) assert.equal(c.elector.leader(), leaders[0].elector.identity);
    await stopAll(clock, all);
  });

  test('two candidates racing for an expired lease: the stale update gets 409 and only one wins', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const options = { clock, ...TIMING };
    const a = new LeaderElector({ identity: 'a', client: lease.clientFor('a'), ...options });
    const b = new LeaderElector({ identity: 'b', client: lease.clientFor('b'), ...options });
    const signal = new AbortController().signal;
    const results = await Promise.all([a.tryAcquireOrRenew(signal), b.tryAcquireOrRenew(signal)]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal(lease.writes.length, 1);
  });

  for (const jitter of [0, 0.5, 0.999])
    test(`a leader cut off from the API server stops acting before its lease can expire elsewhere (jitter ${jitter})`, async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      const a = candidate(lease, clock, 'a');
      await settle();
      const b = candidate(lease, clock, 'b', () => jitter);
      await runFor(clock, 5_000, [a, b]);
      const lastRenewal = lease.writes.at(-1)!.spec.renewTime.getTime();
      lease.failing.add('a');
      await runFor(clock, 30_000, [a, b]);
      assert.equal(await a.ended, 'lost');
      assert.match(JSON.stringify(a.events), /not renewed within 10000 ms/);
      const fencedAt = a.endedAt[0];
      const takenAt = b.gainedAt[0];
      // The fence counts from before the last successful renewal was sent: at most renewDeadline later.
      assert.ok(
        fencedAt <= lastRenewal + TIMING.renewDeadlineMs,
        `fenced ${fencedAt - lastRenewal} ms after`,
      );
      assert.ok(takenAt >= lastRenewal + TIMING.leaseDurationMs, `taken ${takenAt - lastRenewal} ms after`);
      assert.ok(
        takenAt <= lastRenewal + TIMING.leaseDurationMs + MAX_RETRY_WAIT + 50,
        `taken ${takenAt - lastRenewal} ms after`,
      );
      assert.equal(lease.record?.spec.holderIdentity, 'b');
      assert.equal(lease.record?.spec.leaseTransitions, 1);
      await stopAll(clock, [a, b]);
    });

  test('a renewal that fails now and then keeps the lead (retried every period until the deadline)', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await settle();
    const b = candidate(lease, clock, 'b');
    for (let i = 0; i < 5; i++) {
      lease.failing.add('a');
      await runFor(clock, 7_000, [a, b]);
      lease.failing.delete('a');
      await runFor(clock, 3_000, [a, b]);
    }
    assert.deepEqual([a.gainedAt.length, a.endedAt.length, b.gainedAt.length], [1, 0, 0]);
    await stopAll(clock, [a, b]);
  });

  test('a stopped leader releases the lease after its work ended, and a candidate takes it at once', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await settle();
    const b = candidate(lease, clock, 'b');
    await runFor(clock, 4_000, [a, b]);
    a.stop.abort();
    await settle();
    assert.equal(await a.ended, 'stopped');
    assert.equal(lease.record?.spec.holderIdentity, '', 'released');
    assert.ok(a.events.some((e) => e.event === 'lead released'));
    const releasedAt = clock.now();
    await runFor(clock, MAX_RETRY_WAIT + 100, [a, b]);
    assert.equal(lease.record?.spec.holderIdentity, 'b');
    assert.ok(b.gainedAt[0] - releasedAt <= MAX_RETRY_WAIT + 50);
    await stopAll(clock, [b]);
  });

  for (const faults of [['unavailable', 'unavailable'], ['conflict'], ['conflict', 'unavailable']] as const)
    test(`a stopped leader still releases the lease when the API server answers ${faults.join(', ')} first`, async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      const a = candidate(lease, clock, 'a');
      await settle();
      await runFor(clock, 3_000, [a]);
      lease.faults.push(...faults);
      a.stop.abort();
      await clock.advance(TIMING.retryPeriodMs * 3);
      assert.equal(await a.ended, 'stopped');
      assert.equal(lease.faults.length, 0, 'the faults were met');
      assert.equal(lease.record?.spec.holderIdentity, '', 'released');
      assert.ok(a.events.some((e) => e.event === 'lead released'));
    });

  test('a stopped leader whose lease was taken meanwhile does not release it', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await settle();
    const { resourceVersion, spec } = lease.record!;
    await lease
      .clientFor('x')
      .update({ ...spec, holderIdentity: 'x' }, resourceVersion, new AbortController().signal);
    a.stop.abort();
    await clock.advance(TIMING.retryPeriodMs * 3);
    assert.equal(await a.ended, 'stopped');
    assert.equal(lease.record?.spec.holderIdentity, 'x');
    assert.ok(!a.events.some((e) => e.event === 'lead released'));
  });

  test('a leader that finds the lease held by another ends its term at once', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    await settle();
    // Someone overwrote the lease (an operator, or a takeover after a long pause of this process).
    const { resourceVersion, spec } = lease.record!;
    const overwrittenAt = clock.now();
    await lease
      .clientFor('x')
      .update({ ...spec, holderIdentity: 'x' }, resourceVersion, new AbortController().signal);
    await clock.advance(TIMING.retryPeriodMs + 100);
    assert.equal(await a.ended, 'lost');
    assert.ok(a.endedAt[0] - overwrittenAt <= TIMING.retryPeriodMs + 50, 'at the next renewal');
    assert.match(JSON.stringify(a.events), /held by 'x'/);
  });

  test('refuses timings where the fence could come after the lease expires', () => {
    const client = new MemoryLease().clientFor('a');
    assert.throws(
      () => new LeaderElector({ identity: 'a', client, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
      /retryPeriod < renewDeadline < leaseDuration/,
    );
    assert.throws(
      () => new LeaderElector({ identity: 'a', client, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }),
      /retryPeriod < renewDeadline/,
    );
  });
});
