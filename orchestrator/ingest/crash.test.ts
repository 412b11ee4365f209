// `esweep ingest` killed with SIGKILL in the middle of a 50k-event stream and restarted: every event
// is in the database exactly once. Then every event is published again (bypassing the server's
// Nats-Msg-Id dedupe, so the ingester itself must see through it): still exactly once.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '../../test/support/wait.ts';
import { connectNats, ensureStreams, NatsEventSink } from '../events/nats.ts';
import { encodeEvent, subjectFor, type TrialEvent } from '../events/protocol.ts';
import { EventPublisher } from '../events/publisher.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../events/test-support.ts';
import { createTestDatabase, seedSweep, type TestDatabase } from '../store/test-support.ts';

const cli = join(import.meta.dirname, '../../bin/esweep.js');
const TRIALS = 50;
const PER_TRIAL = 1000; // started, 998 metrics events of 2 points, completed: 50,000 events

/** The checks query the servers: poll gently; a kill -9 and catching up 50k events take a while. */
const poll = { timeoutMs: 120_000, intervalMs: 250 };

describe('ingester crash (kill -9) and duplicate delivery', () => {
  let db: TestDatabase;
  let nc: NatsConnection;
  const names = uniqueNames('crash');
  const children: ChildProcess[] = [];

  before(async () => {
    db = await createTestDatabase('crash');
    nc = await connectNats({ servers: TEST_NATS_URL });
    await ensureStreams(nc, names);
  });
  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await deleteStreams(nc, names).catch(() => {});
    await nc.close();
    await db?.dispose();
  });

  function startIngester(): ChildProcess {
    const child = spawn(
      process.execPath,
      [
        cli,
        'ingest',
        '--database',
        db.url,
        '--nats',
        TEST_NATS_URL,
        '--stream',
        names.stream,
        '--prefix',
        names.prefix,
        '--ack-wait',
        '2000',
        '--batch',
        '2000',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout?.resume();
    children.push(child);
    return child;
  }

  const eventCount = async () => {
    const [row] = await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM event`;
    return Number(row!.n);
  };
  const counts = async () => {
    const [row] = await db.prisma.$queryRaw<{ events: bigint; points: bigint; completed: bigint }[]>`
      SELECT (SELECT count(*) FROM event) AS events, (SELECT count(*) FROM metric_point) AS points,
             (SELECT count(*) FROM trial WHERE status = 'completed') AS completed`;
    return { events: Number(row!.events), points: Number(row!.points), completed: Number(row!.completed) };
  };

  // Its four waits may take 120 s each: more than the default per-test timeout (test/support/test-timeout.mjs).
  it('every event lands exactly once across a kill -9 and a full duplicate publish', {
    timeout: 600_000,
  }, async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, TRIALS, 'crash');
    const events: TrialEvent[] = [];
    const time = new Date().toISOString();
    for (const trialId of trialIds) {
      const h = { v: 1 as const, sweepId, trialId, attempt: 1, time };
      events.push({ ...h, seq: 0, kind: 'started' });
      for (let seq = 1; seq < PER_TRIAL - 1; seq++) {
        events.push({
          ...h,
          seq,
          kind: 'metrics',
          points: [
            { step: seq, name: 'loss', value: 1 / seq },
            { step: seq, name: 'accuracy', value: 1 - 1 / seq },
          ],
        });
      }
      events.push({
        ...h,
        seq: PER_TRIAL - 1,
        kind: 'completed',
        accuracy: 0.9,
        directSparsity: 0.9,
        effectiveSparsity: 0.95,
      });
    }
    assert.equal(events.length, 50_000);
    const expectedPoints = TRIALS * (PER_TRIAL - 2) * 2;

    const publish = async (suffix: string) => {
      const publisher = new EventPublisher(new NatsEventSink(nc), { window: 512 });
      for (const e of events) {
        await publisher.publish({
          subject: subjectFor(e, names.prefix),
          data: encodeEvent(e),
          msgId: `${e.trialId}:${e.attempt}:${e.seq}${suffix}`,
        });
      }
      await publisher.close();
    };

    const first = startIngester();
    const publishing = publish('');
    // Kill it mid-stream: once a good part, but not all, is in the database.
    await waitFor('ingest under way', async () => (await eventCount()) >= 8000, poll);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    await publishing;
    const atKill = await counts();
    assert.ok(
      atKill.events < events.length,
      `killed mid-stream (${atKill.events} of ${events.length} written)`,
    );

    startIngester();
    await waitFor('all events after the restart', async () => (await eventCount()) === events.length, poll);
    await waitFor('all trials completed', async () => (await counts()).completed === TRIALS, poll);
    assert.deepEqual(await counts(), { events: events.length, points: expectedPoints, completed: TRIALS });

    // Everything again, with fresh msgIds so the server stores the copies and the ingester sees them.
    await publish(':again');
    const jsm = await jetstreamManager(nc);
    await waitFor(
      'the copies consumed and acked',
      async () => {
        const info = await jsm.consumers.info(names.stream, 'ingester');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      poll,
    );
    const { state } = await jsm.streams.info(names.stream);
    assert.equal(state.last_seq, 2 * events.length, 'the server stored every copy');
    assert.equal(state.messages, 0, 'and freed each once ingested (work-queue retention)');
    assert.deepEqual(await counts(), { events: events.length, points: expectedPoints, completed: TRIALS });
    const [distinct] = await db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(DISTINCT (trial_id, attempt, step, name)) AS n FROM metric_point`;
    assert.equal(Number(distinct!.n), expectedPoints);
  });
});
