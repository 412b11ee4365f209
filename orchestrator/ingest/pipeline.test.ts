// The event pipeline against the real servers: bad messages are parked without stopping the stream,
// a NATS restart while a worker publishes loses nothing, and cutting the ingester off PostgreSQL
// mid-stream acks nothing and catches up afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '../../test/support/wait.ts';
import { connectNats, ensureStreams, NatsEventSink, NatsEventSource, resolveNames } from '../events/nats.ts';
import { EventPublisher, TrialReporter } from '../events/publisher.ts';
import { deleteStreams, NatsServer, TEST_NATS_URL, uniqueNames } from '../events/test-support.ts';
import { adminQuery, createTestDatabase, seedSweep, type TestDatabase } from '../store/test-support.ts';
import { Ingester } from './ingester.ts';

/** The checks query the servers: poll gently. */
const poll = { timeoutMs: 60_000, intervalMs: 250 };

/** Waits until the ingester's consumer has nothing pending or unacknowledged. */
function everythingAcked(jsm: JetStreamManager, stream: string) {
  return waitFor(
    'everything acked',
    async () => {
      const info = await jsm.consumers.info(stream, 'ingester');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    poll,
  );
}

const count = async (db: TestDatabase, table: 'event' | 'metric_point') => {
  const [row] = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM ${table}`);
  return Number(row!.n);
};

describe('pipeline against NATS JetStream and PostgreSQL', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('pipeline');
  });
  after(async () => {
    await db?.dispose();
  });

  it('parks malformed, unknown and mismatched messages and keeps going; out-of-order ends completed', async () => {
    const names = uniqueNames('bad');
    const nc = await connectNats({ servers: TEST_NATS_URL });
    const ingester = new Ingester(db.store, new NatsEventSource(nc, names));
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 2, 'bad-messages');
      const js = jetstream(nc);
      const enc = new TextEncoder();
      const subject = (trial: string, kind: string) => `${names.prefix}.v1.${sweepId}.${trial}.${kind}`;
      const header = { v: 1, sweepId, attempt: 1, time: new Date().toISOString() };
      // out of order: completed (seq 2) before started (seq 0) and progress (seq 1)
      const publisher = new EventPublisher(new NatsEventSink(nc));
      const reporter = new TrialReporter(publisher, {
        sweepId,
        trialId: trialIds[0]!,
        attempt: 1,
        prefix: names.prefix,
        firstSeq: 2,
      });
      await reporter.completed({ accuracy: 0.93, directSparsity: 0.9, effectiveSparsity: 0.92 });
      await publisher.flush();
      await js.publish(subject(trialIds[0]!, 'metrics'), enc.encode('{"v":1, oops'));
      await js.publish(
        subject(trialIds[0]!, 'exploded'),
        enc.encode(JSON.stringify({ ...header, trialId: trialIds[0], seq: 9, kind: 'exploded' })),
      );
      await js.publish(
        subject(trialIds[0]!, 'heartbeat'),
        enc.encode(JSON.stringify({ ...header, trialId: trialIds[1], seq: 9, kind: 'heartbeat' })),
      );
      await js.publish(
        subject('ghost', 'started'),
        enc.encode(JSON.stringify({ ...header, trialId: 'ghost', seq: 0, kind: 'started' })),
      );
      const late = new TrialReporter(publisher, {
        sweepId,
        trialId: trialIds[0]!,
        attempt: 1,
        prefix: names.prefix,
      });
      await late.started({ host: 'late' });
      await late.progress({ step: 3, totalSteps: 10 });
      const other = new TrialReporter(publisher, {
        sweepId,
        trialId: trialIds[1]!,
        attempt: 1,
        prefix: names.prefix,
      });
      await other.started();
      await other.metrics([{ step: 1, name: 'loss', value: 2 }]);
      await publisher.flush();
      ingester.start();
      await waitFor('all 5 good events', async () => (await count(db, 'event')) === 5, poll);
      await waitFor('4 dead letters', () => ingester.stats.deadLetters === 4, poll);

      const t0 = await db.store.getTrial(trialIds[0]!);
      assert.equal(t0?.status, 'completed');
      assert.equal((await db.store.listAttempts(trialIds[0]!))[0]?.host, 'late');
      assert.equal((await db.store.getTrial(trialIds[1]!))?.status, 'running');
      const dead = await db.prisma.deadLetter.findMany({ orderBy: { source: 'asc' } });
      assert.deepEqual(dead.map((d) => d.reason).sort(), [
        'malformed',
        'subject-mismatch',
        'unknown-kind',
        'unknown-trial',
      ]);
      // ... and on the dead-letter subject, with the reason in a header; all acked
      const r = resolveNames(names);
      const jsm = await jetstreamManager(nc);
      await waitFor(
        'dead letters published',
        async () => (await jsm.streams.info(r.dlqStream)).state.messages === 4,
        poll,
      );
      const stored = await jsm.streams.getMessage(r.dlqStream, {
        last_by_subj: `${names.prefix}.dlq.v1.unknown-trial`,
      });
      assert.equal(stored?.header.get('Esweep-Dlq-Reason'), 'unknown-trial');
      assert.match(stored?.header.get('Esweep-Dlq-Detail') ?? '', /ghost/);
      await everythingAcked(jsm, names.stream);
      // the server drops a resend with the same Nats-Msg-Id
      const ack = await js.publish(subject(trialIds[1]!, 'started'), enc.encode('{}'), {
        msgID: `${trialIds[1]}:1:0`,
      });
      assert.equal(ack.duplicate, true);
    } finally {
      await ingester.stop();
      await deleteStreams(nc, names);
      await nc.close();
    }
  });

  it('loses nothing when the NATS server restarts while a worker publishes', async () => {
    const server = await NatsServer.start();
    const nc = await connectNats({ servers: server.url, name: 'worker' });
    const ncIngest = await connectNats({ servers: server.url, name: 'ingester' });
    const disconnects: string[] = [];
    (async () => {
      for await (const s of nc.status()) if (s.type === 'disconnect') disconnects.push(s.type);
    })();
    const names = uniqueNames('restart');
    const ingester = new Ingester(db.store, new NatsEventSource(ncIngest, { ...names, ackWaitMs: 5000 }));
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 4, 'nats-restart');
      ingester.start();
      const before = await count(db, 'metric_point');
      const publisher = new EventPublisher(new NatsEventSink(nc, 2000), { window: 128, maxBackoffMs: 500 });
      const reporters = trialIds.map(
        (trialId) =>
          new TrialReporter(publisher, {
            sweepId,
            trialId,
            attempt: 1,
            prefix: names.prefix,
            maxPointsPerEvent: 5,
          }),
      );
      const perTrial = 4000; // 800 events per trial, 3200 in all
      let restarted = false;
      for (let k = 0; k < perTrial; k += 5) {
        for (const r of reporters)
          await r.metrics(Array.from({ length: 5 }, (_, j) => ({ step: k + j, name: 'loss', value: k + j })));
        if (!restarted && k >= perTrial / 4) {
          restarted = true;
          await server.stop('SIGTERM');
          setTimeout(() => void server.start(), 1000);
        }
      }
      await publisher.flush();
      assert.ok(disconnects.length > 0, 'the publisher saw the server go away');
      await waitFor(
        'every point ingested',
        async () => (await count(db, 'metric_point')) - before === perTrial * trialIds.length,
        { ...poll, timeoutMs: 120_000 },
      );
      const [dupes] = await db.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) - count(DISTINCT (trial_id, step)) AS n FROM metric_point WHERE trial_id = ANY(${trialIds}::text[])`;
      assert.equal(Number(dupes!.n), 0);
    } finally {
      await ingester.stop();
      await nc.close();
      await ncIngest.close();
      await server.dispose();
    }
  });

  it('acks nothing and holds a bounded number of messages while PostgreSQL is cut, without redelivery, then catches up', async () => {
    const names = uniqueNames('pgdown');
    const nc = await connectNats({ servers: TEST_NATS_URL });
    // A short ack wait: without keep-alives every held message would come back every 1.5 s.
    const ackWaitMs = 1500;
    const maxBuffered = 1000;
    const source = new NatsEventSource(nc, { ...names, ackWaitMs, pullBatch: 200 });
    const ingester = new Ingester(db.store, source, {
      maxBatch: 200,
      maxBackoffMs: 300,
      maxBuffered,
      keepAliveMs: ackWaitMs / 3,
    });
    const jsm = await jetstreamManager(nc);
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 5, 'pg-down');
      const before = await count(db, 'event');
      const publisher = new EventPublisher(new NatsEventSink(nc));
      const total = 10_000;
      for (let i = 0; i < total / trialIds.length; i++) {
        for (const trialId of trialIds) {
          await publisher.publish({
            subject: `${names.prefix}.v1.${sweepId}.${trialId}.heartbeat`,
            data: new TextEncoder().encode(
              JSON.stringify({
                v: 1,
                kind: 'heartbeat',
                sweepId,
                trialId,
                attempt: 1,
                seq: i,
                time: new Date().toISOString(),
                step: i,
              }),
            ),
            msgId: `${trialId}:1:${i}`,
          });
        }
      }
      await publisher.flush();
      ingester.start();
      await waitFor('ingest under way', async () => (await count(db, 'event')) - before >= 1000, poll);
      // Cut the database off: no new connections, existing ones terminated.
      await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS false`);
      await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
      try {
        await waitFor('the ingester to notice', () => ingester.stats.dbErrors > 0, {
          ...poll,
          timeoutMs: 20_000,
        });
        const floor1 = (await jsm.consumers.info(names.stream, 'ingester')).ack_floor.stream_seq;
        const deliveriesBefore = ingester.stats.messages;
        // Four ack waits: long enough for a storm of redeliveries if anything held were not kept alive.
        let peakHeld = 0;
        for (const until = Date.now() + 4 * ackWaitMs; Date.now() < until; await sleep(50)) {
          peakHeld = Math.max(peakHeld, ingester.held.messages);
        }
        assert.ok(peakHeld <= maxBuffered, `held ${peakHeld} messages, bound ${maxBuffered}`);
        assert.equal(ingester.stats.messages, deliveriesBefore, 'nothing pulled while the writer fails');
        const info = await jsm.consumers.info(names.stream, 'ingester');
        assert.equal(info.ack_floor.stream_seq, floor1, 'no acks while the database is unreachable');
        assert.ok(info.num_ack_pending > 0, 'messages held, unacked');
        assert.ok(info.ack_floor.stream_seq < total, 'the outage began mid-stream');
      } finally {
        await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`);
      }
      await waitFor('catch-up', async () => (await count(db, 'event')) - before === total, {
        ...poll,
        timeoutMs: 120_000,
      });
      await everythingAcked(jsm, names.stream);
      const perEvent = ingester.stats.messages / total;
      assert.ok(perEvent <= 1.5, `${perEvent} deliveries per event`);
      assert.equal((await jsm.streams.info(names.stream)).state.messages, 0, 'ingested events freed');
      const heartbeats = await db.prisma.attempt.findMany({ where: { trialId: { in: trialIds } } });
      assert.deepEqual(
        heartbeats.map((a) => a.step),
        trialIds.map(() => total / trialIds.length - 1),
      );
    } finally {
      await ingester.stop();
      await deleteStreams(nc, names);
      await nc.close();
    }
  });
});
