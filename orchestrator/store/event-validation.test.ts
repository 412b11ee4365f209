// The rules the event writer applies with the database's help (docs/event-validation.md): events of an
// attempt the controller never started are refused (`stale-attempt`) and those of a superseded one are
// history; a message with a stored key but other content is refused (`conflict`) while a redelivery is a
// silent duplicate; terminal trials stay terminal. Then the whole ingester: every refused message is a
// dead letter with its reason, and nothing of it reaches the trial, attempt, result or layer tables.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messageId, subjectFor, type TrialEvent } from '../events/protocol.ts';
import { startEmbeddedPipeline } from '../ingest/embedded.ts';
import { writeEvents } from './event-writes.ts';
import {
  completedBody,
  createTestDatabase,
  seedSweep,
  sparsityBody,
  type TestDatabase,
  testEvent,
} from './test-support.ts';

describe('event rules that need the database', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('event_validation');
  });
  after(async () => {
    await db?.dispose();
  });

  /** Row counts of everything an event can change, for one trial. */
  async function footprint(trialId: string) {
    const [trial, attempts, results, layers, events, points] = await Promise.all([
      db.prisma.trial.findUniqueOrThrow({ where: { id: trialId } }),
      db.prisma.attempt.findMany({ where: { trialId }, orderBy: { number: 'asc' } }),
      db.prisma.result.findMany({ where: { trialId } }),
      db.prisma.layerSparsity.findMany({ where: { trialId } }),
      db.prisma.event.count({ where: { trialId } }),
      db.prisma.metricPoint.findMany({ where: { trialId } }),
    ]);
    return { trial, attempts, results, layers, events, points };
  }

  it('stale-attempt: events of an attempt never started do not reopen a completed trial', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'stale');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const h1 = { sweepId, trialId, attempt: 1 };
    await writeEvents(db.prisma, [
      testEvent(h1, 0, { kind: 'started' }),
      testEvent(h1, 1, completedBody(0.9)),
    ]);
    const before = await footprint(trialId);
    assert.equal(before.trial.status, 'completed');

    const h2 = { sweepId, trialId, attempt: 2 };
    const stray = [
      testEvent(h2, 0, { kind: 'started', host: 'stray' }),
      testEvent(h2, 1, { kind: 'heartbeat' }),
      testEvent(h2, 2, sparsityBody(5)),
    ];
    const out = await writeEvents(db.prisma, stray);
    assert.deepEqual(
      out.rejected.map((r) => [r.event, r.reason]),
      stray.map((e) => [e, 'stale-attempt']),
    );
    assert.equal(out.inserted, 0);
    assert.match(out.rejected[0]!.detail, /attempt 2 .* was never started \(its current attempt is 1\)/);
    assert.deepEqual(await footprint(trialId), before);
  });

  it('stale-attempt: only a first attempt may be adopted by a trial that never started one', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 2, 'adopt');
    const first = await writeEvents(db.prisma, [
      testEvent({ sweepId, trialId: trialIds[0]!, attempt: 1 }, 0, { kind: 'started' }),
    ]);
    assert.deepEqual([first.inserted, first.rejected.length], [1, 0]);
    const t0 = await db.store.getTrial(trialIds[0]!);
    assert.deepEqual([t0?.status, t0?.attempts], ['running', 1]);
    const second = await writeEvents(db.prisma, [
      testEvent({ sweepId, trialId: trialIds[1]!, attempt: 2 }, 0, { kind: 'started' }),
    ]);
    assert.deepEqual(
      second.rejected.map((r) => r.reason),
      ['stale-attempt'],
    );
    const t1 = await db.store.getTrial(trialIds[1]!);
    assert.deepEqual([t1?.status, t1?.attempts], ['pending', 0]);
  });

  it('history: a late completed of a superseded attempt is stored on its attempt, not as the trial result', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'history');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    await db.store.startAttempt(trialId);
    const late = testEvent({ sweepId, trialId, attempt: 1 }, 7, completedBody(0.5));
    const out = await writeEvents(db.prisma, [late]);
    assert.deepEqual([out.inserted, out.rejected.length], [1, 0]);
    let state = await footprint(trialId);
    assert.deepEqual([state.trial.status, state.trial.attempts], ['queued', 2]);
    assert.deepEqual(
      state.attempts.map((a) => [a.number, a.status]),
      [
        [1, 'completed'],
        [2, 'queued'],
      ],
    );
    assert.deepEqual(state.results, []);
    await writeEvents(db.prisma, [testEvent({ sweepId, trialId, attempt: 2 }, 0, completedBody(0.8))]);
    state = await footprint(trialId);
    assert.equal(state.trial.status, 'completed');
    assert.deepEqual(
      state.results.map((r) => [r.attempt, r.accuracy]),
      [[2, 0.8]],
    );
  });

  it('conflict: same id triple with other content is refused; an identical redelivery is a duplicate', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'conflict');
    const trialId = trialIds[0]!;
    const h = { sweepId, trialId, attempt: 1 };
    const done = testEvent(h, 3, completedBody(0.9));
    const points = testEvent(h, 1, { kind: 'metrics', points: [{ step: 1, name: 'loss', value: 0.5 }] });
    const layers = testEvent(h, 2, sparsityBody(10));
    await writeEvents(db.prisma, [testEvent(h, 0, { kind: 'started' }), points, layers, done]);
    const before = await footprint(trialId);

    // Redelivered unchanged (a copy, as a new decode would make): silent duplicates.
    const again = await writeEvents(db.prisma, [structuredClone(done), structuredClone(points)]);
    assert.deepEqual([again.inserted, again.duplicates, again.rejected.length], [0, 2, 0]);

    const forged = [
      { ...done, accuracy: 0.1 },
      { ...points, points: [{ step: 1, name: 'loss', value: 99 }] },
      { ...layers, layers: [{ ...sparsityBody(1).layers[0]! }], overall: sparsityBody(1).overall },
      { ...done, time: new Date(Date.parse(done.time) + 5000).toISOString() },
    ] as TrialEvent[];
    const out = await writeEvents(db.prisma, forged);
    assert.equal(out.rejected.length, forged.length);
    for (const e of forged) {
      assert.equal(out.rejected.find((r) => r.event === e)?.reason, 'conflict', JSON.stringify(e));
    }
    assert.match(
      out.rejected.find((r) => r.event === forged[0])!.detail,
      new RegExp(`${messageId(done)} is stored with other content`),
    );
    assert.deepEqual([out.inserted, out.duplicates], [0, 0]);
    assert.deepEqual(await footprint(trialId), before);
  });

  it('conflict: two messages of one batch with one id and different content: the first is stored, the second refused', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'conflict_batch');
    const h = { sweepId, trialId: trialIds[0]!, attempt: 1 };
    const a = testEvent(h, 0, { kind: 'progress', step: 5 });
    const b = { ...a, step: 500 } as TrialEvent;
    const out = await writeEvents(db.prisma, [a, structuredClone(a), b]);
    assert.deepEqual([out.inserted, out.duplicates], [1, 1]);
    assert.deepEqual(
      out.rejected.map((r) => [r.event, r.reason]),
      [[b, 'conflict']],
    );
    assert.equal((await db.store.listAttempts(h.trialId))[0]?.step, 5);
  });

  it('terminal: a completed trial stays completed, without an error, after a later failed of its attempt', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 1, 'terminal');
    const trialId = trialIds[0]!;
    await db.store.startAttempt(trialId);
    const h = { sweepId, trialId, attempt: 1 };
    await writeEvents(db.prisma, [testEvent(h, 0, { kind: 'started' }), testEvent(h, 1, completedBody(0.9))]);
    // Separate batches and one batch.
    await writeEvents(db.prisma, [testEvent(h, 2, { kind: 'failed', error: 'late crash', retryable: true })]);
    await writeEvents(db.prisma, [
      testEvent(h, 3, { kind: 'failed', error: 'later crash', retryable: false }),
      testEvent(h, 4, { kind: 'heartbeat' }),
    ]);
    const state = await footprint(trialId);
    assert.deepEqual(
      [state.trial.status, state.trial.error, state.trial.retryable],
      ['completed', null, null],
    );
    assert.deepEqual(
      state.attempts.map((a) => [a.status, a.error, a.retryable]),
      [['completed', null, null]],
    );
    assert.deepEqual(
      state.results.map((r) => r.accuracy),
      [0.9],
    );
    assert.equal(state.events, 5, 'the late events are kept as history');
  });

  it('terminal: events of the current attempt never move failed, cancelled or completed back to running', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 3, 'terminal_all');
    const terminal = ['failed', 'cancelled', 'completed'] as const;
    for (const [i, status] of terminal.entries()) {
      await db.store.startAttempt(trialIds[i]!);
      await db.prisma.trial.update({ where: { id: trialIds[i] }, data: { status } });
    }
    await writeEvents(
      db.prisma,
      trialIds.flatMap((trialId) => {
        const h = { sweepId, trialId, attempt: 1 };
        return [
          testEvent(h, 0, { kind: 'started' }),
          testEvent(h, 1, { kind: 'progress', step: 3 }),
          testEvent(h, 2, { kind: 'heartbeat' }),
        ];
      }),
    );
    const statuses = await Promise.all(trialIds.map(async (id) => (await db.store.getTrial(id))?.status));
    assert.deepEqual(statuses, [...terminal]);
  });

  it('through the ingester: every refused message is a dead letter with its reason, and changes nothing', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 2, 'ingest');
    const [good, target] = trialIds as [string, string];
    await db.store.startAttempt(target);
    const h = { sweepId, trialId: target, attempt: 1 };
    const stored = testEvent(h, 0, { kind: 'started', host: 'real' });
    await writeEvents(db.prisma, [stored]);
    const before = await footprint(target);

    const pipeline = startEmbeddedPipeline(db.store, { ingester: { initialBackoffMs: 1, maxBackoffMs: 4 } });
    try {
      const raw = (e: TrialEvent, text = JSON.stringify(e), msgId = `${messageId(e)}:${text.length}`) =>
        pipeline.transport.send({ subject: subjectFor(e), data: new TextEncoder().encode(text), msgId });
      const expected: [string, string][] = [];
      const poison = async (reason: string, e: TrialEvent, text?: string) => {
        expected.push([reason, String(e.seq)]);
        await raw(e, text);
      };
      await poison('bad-time', {
        ...testEvent(h, 10, { kind: 'heartbeat' }),
        time: '0000-01-01T00:00:00Z',
      } as TrialEvent);
      await poison('clock-skew', {
        ...testEvent(h, 11, { kind: 'heartbeat' }),
        time: '9999-12-31T23:59:59Z',
      } as TrialEvent);
      const surrogate = testEvent(h, 12, { kind: 'started', host: 'HOST' });
      await poison('invalid-text', surrogate, JSON.stringify(surrogate).replace('HOST', '\\ud800'));
      await poison(
        'too-large',
        testEvent(h, 13, { kind: 'failed', error: 'e'.repeat(20_000), retryable: true }),
      );
      await poison(
        'inconsistent-counts',
        testEvent(h, 14, {
          ...sparsityBody(10),
          layers: [{ name: 'fc1', shape: [100], params: 100, direct: 10, effective: 11 }],
        }),
      );
      await poison('malformed', testEvent(h, 15, { kind: 'progress', step: -1 }));
      await poison('stale-attempt', testEvent({ ...h, attempt: 2 }, 16, { kind: 'heartbeat' }));
      await poison('conflict', { ...stored, host: 'forged' } as TrialEvent);
      await poison('unknown-trial', testEvent({ ...h, trialId: 'nope' }, 17, { kind: 'started' }));
      // One good message, so the batch also writes something.
      await raw(testEvent({ sweepId, trialId: good, attempt: 1 }, 0, { kind: 'started' }));
      await pipeline.drain();

      const dead = await db.prisma.deadLetter.findMany();
      assert.deepEqual(
        dead.map((d) => [d.reason, String((JSON.parse(d.data) as { seq: number }).seq)]).sort(),
        expected.sort(),
      );
      assert.equal(
        pipeline.ingester.stats.dbErrors,
        0,
        'no message needed a database round trip to be refused',
      );
      assert.deepEqual(
        pipeline.transport.deadLetters.map((d) => d.reason).sort(),
        expected.map(([reason]) => reason).sort(),
      );
      assert.deepEqual(await footprint(target), before);
      assert.equal((await db.store.getTrial(good))?.status, 'running');
    } finally {
      await pipeline.stop();
    }
  });
});
