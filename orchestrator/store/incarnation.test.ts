// One attempt, several processes (docs/events.md, *Incarnations*): a pod replaced within its attempt
// (eviction, preemption) starts its events again at seq 0 under a new incarnation id. Every event of
// every incarnation is stored once; the attempt's state, result, curve and layers are its latest
// incarnation's; stragglers of the replaced one are history; redelivery changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { connectNats, ensureStreams, NatsEventSink, NatsEventSource } from '../events/nats.ts';
import { type EventPayload, messageId, type TrialEvent } from '../events/protocol.ts';
import { EventPublisher, TrialReporter } from '../events/publisher.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../events/test-support.ts';
import type { EventSink, OutboundMessage } from '../events/transport.ts';
import { Ingester } from '../ingest/ingester.ts';
import { contentHash, writeEvents } from './event-writes.ts';
import {
  completedBody,
  createTestDatabase,
  seedSweep,
  sparsityBody,
  type TestDatabase,
  testEvent,
} from './test-support.ts';

const poll = { timeoutMs: 60_000, intervalMs: 200 };

/** Forwards to NATS and keeps what was sent, to send it all again later. */
class RecordingSink implements EventSink {
  readonly sent: OutboundMessage[] = [];
  constructor(private readonly inner: EventSink) {}
  async send(message: OutboundMessage): Promise<void> {
    await this.inner.send(message);
    if (!this.sent.includes(message)) this.sent.push(message);
  }
}

const done = (accuracy: number): EventPayload<'completed'> => ({
  accuracy,
  directSparsity: 0.9,
  effectiveSparsity: 0.95,
});

describe('incarnations: a replaced pod within one attempt', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('incarnation');
  });
  after(async () => {
    await db?.dispose();
  });

  /** Everything an event can change, for one trial (row contents, not only counts). */
  async function footprint(trialId: string) {
    const [trial, attempts, results, layers, events, points, dead] = await Promise.all([
      db.prisma.trial.findUniqueOrThrow({ where: { id: trialId } }),
      db.prisma.attempt.findMany({ where: { trialId }, orderBy: { number: 'asc' } }),
      db.prisma.result.findMany({ where: { trialId } }),
      db.prisma.layerSparsity.findMany({ where: { trialId }, orderBy: { idx: 'asc' } }),
      db.prisma.event.findMany({ where: { trialId }, omit: { ingestedAt: true } }),
      db.prisma.metricPoint.count({ where: { trialId } }),
      db.prisma.deadLetter.count(),
    ]);
    const { updatedAt: _u, ...trialRest } = trial;
    const stableResults = results.map(({ createdAt: _c, ...r }) => r);
    return { trial: trialRest, attempts, results: stableResults, layers, events, points, dead };
  }

  it('the second incarnation completes the attempt with its own result and curve; nothing is dead-lettered, stored twice or changed by redelivery', async () => {
    const names = uniqueNames('incarnation');
    const nc = await connectNats({ servers: TEST_NATS_URL });
    const ingester = new Ingester(db.store, new NatsEventSource(nc, names));
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 1, 'incarnations');
      const trialId = trialIds[0]!;
      await db.store.startAttempt(trialId);
      const sink = new RecordingSink(new NatsEventSink(nc));
      const reporter = (incarnation: string) =>
        new TrialReporter(new EventPublisher(sink), {
          sweepId,
          trialId,
          attempt: 1,
          prefix: names.prefix,
          incarnation,
        });
      // The first pod: started, curve points, progress; then it is evicted.
      const first = reporter('pod-a');
      await first.started({ host: 'node-a', totalSteps: 100 });
      await first.metrics([
        { step: 10, name: 'loss', value: 9 },
        { step: 20, name: 'loss', value: 8 },
      ]);
      await first.sparsity(sparsityBody(50) as EventPayload<'sparsity'>);
      await first.progress({ step: 60, totalSteps: 100, phase: 'training' });
      await first.flush();
      ingester.start();
      await waitFor(
        'the first pod is ingested',
        async () => (await footprint(trialId)).events.length === 4,
        poll,
      );
      // The replacement, within the same attempt: seq starts again at 0.
      const second = reporter('pod-b');
      await second.started({ host: 'node-b', totalSteps: 100 });
      await second.flush();
      await waitFor(
        'the second started is ingested',
        async () => (await footprint(trialId)).events.length === 5,
        poll,
      );
      // Stragglers of the first pod, delivered after the second's started.
      await first.metrics([{ step: 70, name: 'loss', value: 7 }]);
      await first.progress({ step: 70, totalSteps: 100 });
      await first.failed({ error: 'interrupted', retryable: true });
      await first.flush();
      await second.metrics([{ step: 10, name: 'loss', value: 5 }]);
      await second.sparsity(sparsityBody(20) as EventPayload<'sparsity'>);
      await second.progress({ step: 30, totalSteps: 100, phase: 'training' });
      await second.completed(done(0.97));
      await second.flush();
      const published = sink.sent.length;
      assert.equal(published, 12);
      await waitFor(
        'every event stored',
        async () => (await footprint(trialId)).events.length === published,
        poll,
      );
      await waitFor('ingester idle', () => ingester.stats.deadLetters === 0 && ingester.idle, poll);

      const state = await footprint(trialId);
      assert.equal(state.dead, 0, 'nothing dead-lettered');
      assert.equal(new Set(state.events.map((e) => `${e.incarnation}:${e.seq}`)).size, published);
      assert.equal(state.trial.status, 'completed');
      assert.equal(state.trial.error, null);
      assert.deepEqual(
        state.results.map((r) => [r.attempt, r.accuracy]),
        [[1, 0.97]],
      );
      const [attempt] = state.attempts;
      assert.equal(attempt?.status, 'completed');
      assert.equal(attempt?.incarnation, 'pod-b');
      assert.equal(attempt?.host, 'node-b');
      assert.equal(attempt?.step, 30, "the replacement's progress, not the first pod's higher step");
      assert.equal(attempt?.error, null);
      const curves = await db.store.trialCurves(trialId);
      assert.deepEqual(curves?.curves, { loss: [{ step: 10, value: 5 }] });
      assert.deepEqual(
        (await db.store.currentLayers(sweepId)).map((l) => [l.name, l.direct]),
        [['fc1', 20]],
      );
      const [viewPoints] = await db.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM metric_curve_view WHERE trial_id = ${trialId}`;
      assert.equal(Number(viewPoints!.n), 1, 'the curve view shows the current incarnation only');
      const [viewLayers] = await db.prisma.$queryRaw<{ direct: bigint }[]>`
        SELECT direct FROM layer_sparsity_view WHERE trial_id = ${trialId}`;
      assert.equal(Number(viewLayers!.direct), 20);
      assert.equal(state.points, 4, "every incarnation's points are kept");

      // Everything again, under new message ids so that the server stores it again: nothing changes.
      const js = (await import('@nats-io/jetstream')).jetstream(nc);
      for (const m of sink.sent) await js.publish(m.subject, m.data, { msgID: `${m.msgId}:again` });
      await waitFor(
        'the redeliveries are ingested',
        () => ingester.stats.duplicates >= published && ingester.idle,
        poll,
      );
      assert.deepEqual(await footprint(trialId), state);
    } finally {
      await ingester.stop();
      await deleteStreams(nc, names);
      await nc.close();
    }
  });

  it('one batch: stragglers around the second started, in any order, end the same', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 2, 'one_batch');
    const ends = [];
    for (const trialId of trialIds) {
      await db.store.startAttempt(trialId);
      const a = { sweepId, trialId, attempt: 1, incarnation: 'a' };
      const b = { sweepId, trialId, attempt: 1, incarnation: 'b' };
      const events = [
        testEvent(a, 0, { kind: 'started', host: 'ha' }),
        testEvent(a, 1, { kind: 'progress', step: 90 }),
        testEvent(b, 0, { kind: 'started', host: 'hb' }),
        testEvent(a, 2, { kind: 'metrics', points: [{ step: 90, name: 'loss', value: 1 }] }),
        testEvent(b, 1, { kind: 'progress', step: 5 }),
        testEvent(a, 3, completedBody(0.5)),
        testEvent(b, 2, completedBody(0.8)),
      ];
      // The second trial gets them reversed, one event per batch.
      if (trialId === trialIds[0]) assert.equal((await writeEvents(db.prisma, events)).rejected.length, 0);
      else
        for (const e of events.reverse())
          assert.equal((await writeEvents(db.prisma, [e])).rejected.length, 0);
      const state = await footprint(trialId);
      ends.push({
        attempt: state.attempts.map((x) => [x.status, x.incarnation, x.host, x.step]),
        result: state.results.map((r) => r.accuracy),
        trial: state.trial.status,
        events: state.events.length,
      });
    }
    assert.deepEqual(ends[0], {
      attempt: [['completed', 'b', 'hb', 5]],
      result: [0.8],
      trial: 'completed',
      events: 7,
    });
    assert.deepEqual(ends[1], ends[0]);
  });

  it('a late started of the replaced incarnation does not take the attempt back', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'late_started');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const a = { sweepId, trialId, attempt: 1, incarnation: 'a' };
    const b = { sweepId, trialId, attempt: 1, incarnation: 'b' };
    const aStarted = testEvent(a, 0, { kind: 'started', host: 'ha' });
    const aProgress = testEvent(a, 1, { kind: 'progress', step: 40 });
    await writeEvents(db.prisma, [
      testEvent(b, 0, { kind: 'started', host: 'hb' }),
      testEvent(b, 1, { kind: 'progress', step: 3 }),
    ]);
    await writeEvents(db.prisma, [aStarted, aProgress]);
    const [attempt] = (await footprint(trialId)).attempts;
    assert.deepEqual([attempt?.incarnation, attempt?.host, attempt?.step], ['b', 'hb', 3]);
  });

  it('events of the new incarnation stored before its started are applied when it starts', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'before_started');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const a = { sweepId, trialId, attempt: 1, incarnation: 'a' };
    const b = { sweepId, trialId, attempt: 1, incarnation: 'b' };
    await writeEvents(db.prisma, [
      testEvent(a, 0, { kind: 'started' }),
      testEvent(a, 1, { kind: 'progress', step: 50 }),
    ]);
    const bStarted = testEvent(b, 0, { kind: 'started', host: 'hb' });
    await writeEvents(db.prisma, [
      testEvent(b, 2, completedBody(0.9)),
      testEvent(b, 1, { kind: 'progress', step: 7 }),
    ]);
    assert.equal((await footprint(trialId)).trial.status, 'running', 'not yet: b has not started');
    await writeEvents(db.prisma, [bStarted]);
    const state = await footprint(trialId);
    assert.equal(state.trial.status, 'completed');
    assert.deepEqual(
      state.attempts.map((x) => [x.status, x.incarnation, x.host, x.step]),
      [['completed', 'b', 'hb', 7]],
    );
    assert.deepEqual(
      state.results.map((r) => r.accuracy),
      [0.9],
    );
  });

  it('a completed attempt is final: a later incarnation is history', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'completed_final');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const a = { sweepId, trialId, attempt: 1, incarnation: 'a' };
    const b = { sweepId, trialId, attempt: 1, incarnation: 'b' };
    await writeEvents(db.prisma, [
      testEvent(a, 0, { kind: 'started', host: 'ha' }),
      testEvent(a, 1, completedBody(0.6)),
    ]);
    const out = await writeEvents(db.prisma, [
      testEvent(b, 0, { kind: 'started', host: 'hb' }),
      testEvent(b, 1, { kind: 'failed', error: 'x', retryable: true }),
    ]);
    assert.deepEqual([out.inserted, out.rejected.length], [2, 0]);
    const state = await footprint(trialId);
    assert.deepEqual(
      state.attempts.map((x) => [x.status, x.incarnation, x.host, x.error]),
      [['completed', 'a', 'ha', null]],
    );
    assert.deepEqual(
      state.results.map((r) => r.accuracy),
      [0.6],
    );
  });

  it('same incarnation and seq with other content is still a conflict; the same seq of another incarnation is not', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'inc_conflict');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const a = { sweepId, trialId, attempt: 1, incarnation: 'a' };
    const b = { sweepId, trialId, attempt: 1, incarnation: 'b' };
    const stored = testEvent(a, 0, { kind: 'started', host: 'ha' });
    await writeEvents(db.prisma, [stored]);
    const forged = { ...stored, host: 'forged' } as TrialEvent;
    const other = testEvent(b, 0, { kind: 'started', host: 'hb' });
    const out = await writeEvents(db.prisma, [forged, other, stored]);
    assert.deepEqual(
      out.rejected.map((r) => [r.event, r.reason]),
      [[forged, 'conflict']],
    );
    assert.deepEqual([out.inserted, out.duplicates], [1, 1]);
    assert.notEqual(messageId(stored), messageId(other));
  });

  it('an event without an incarnation keeps its message id and content hash (workers and messages from before)', () => {
    const legacy: TrialEvent = {
      v: 1,
      sweepId: 's',
      trialId: 't',
      attempt: 2,
      seq: 7,
      time: '2026-06-01T12:00:00.000Z',
      kind: 'heartbeat',
      step: 3,
    };
    assert.equal(messageId(legacy), 't:2:7');
    // The hash this event had before incarnations existed: a stored event still matches its redelivery.
    assert.equal(contentHash(legacy), 'PpDCiFmiCYy85dl9NMR9lcCLCpO8oj2UI5ZoTmMpudk');
    assert.equal(messageId({ ...legacy, incarnation: 'p1' }), 't:2:p1:7');
  });
});
