import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, ensureStreams, NatsEventSink, NatsEventSource } from '../orchestrator/events/nats.ts';
import { encodeEvent, messageId, subjectFor, type TrialEvent } from '../orchestrator/events/protocol.ts';
import { EventPublisher, PublishFailedError } from '../orchestrator/events/publisher.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../orchestrator/events/test-support.ts';
import { smallStoreServer } from '../orchestrator/events/testing/small-store-server.ts';
import { Ingester } from '../orchestrator/ingest/ingester.ts';
import { adminQuery, seedSweep, type TestDatabase, urlFor } from '../orchestrator/store/test-support.ts';
import { waitFor } from '../test/support/wait.ts';
import { IngesterProcess } from './ingester-process.ts';

type Names = { stream: string; prefix: string };

/** How a poison event differs from a good one, and the dead-letter reason it must get. */
export const POISONS = {
  /** Dated year 0: what a worker with a broken clock sends; refused on arrival (events/validation.ts). */
  arrival: { reason: 'bad-time', time: '0000-01-01T00:00:00Z', metric: 'loss' },
  /**
   * A metric the database alone refuses, by a CHECK constraint the bench adds for the run: nothing a
   * worker can send passes the arrival checks and is refused by the schema, so this stands in for a
   * rule that only the database holds, which the ingester finds by splitting the batch.
   */
  database: { reason: 'rejected', time: null, metric: 'poison' },
} as const;
export type PoisonKind = keyof typeof POISONS;

/** `count` metrics events of `points` points each, spread over the trials; `poison(i)` spoils event i. */
function makeEvents(
  sweepId: string,
  trialIds: string[],
  count: number,
  points: number,
  poison: (i: number) => PoisonKind | null = () => null,
): TrialEvent[] {
  const seqs = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const trialId = trialIds[i % trialIds.length]!;
    const seq = seqs.get(trialId) ?? 0;
    seqs.set(trialId, seq + 1);
    const kind = poison(i);
    const spoilt = kind ? POISONS[kind] : null;
    return {
      v: 1,
      kind: 'metrics',
      sweepId,
      trialId,
      attempt: 1,
      seq,
      time: spoilt?.time ?? new Date().toISOString(),
      points: Array.from({ length: points }, (_, j) => ({
        step: seq * points + j,
        name: spoilt?.metric ?? 'loss',
        value: j,
      })),
    } as TrialEvent;
  });
}

async function publishAll(nc: NatsConnection, names: Names, events: TrialEvent[], giveUpAfterMs?: number) {
  const publisher = new EventPublisher(new NatsEventSink(nc), { window: 512, giveUpAfterMs });
  let failure: string | null = null;
  try {
    for (const event of events) {
      await publisher.publish({
        subject: subjectFor(event, names.prefix),
        data: encodeEvent(event),
        msgId: messageId(event),
      });
    }
    await publisher.flush();
  } catch (error) {
    if (!(error instanceof PublishFailedError)) throw error;
    failure = error.message;
  }
  return { failure, acked: publisher.stats.acked, retries: publisher.stats.failures };
}

/** Stored events of these trials: distinct keys, and rows beyond them. */
async function storedEvents(db: TestDatabase, trialIds: string[]) {
  const [row] = await db.prisma.$queryRaw<{ rows: bigint; distinct_keys: bigint }[]>`
    SELECT count(*) AS rows, count(DISTINCT (trial_id, attempt, seq)) AS distinct_keys
    FROM event WHERE trial_id = ANY(${trialIds}::text[])`;
  return { rows: Number(row!.rows), distinct: Number(row!.distinct_keys) };
}

const settled = (ingester: Ingester, total: number) => () =>
  ingester.stats.inserted + ingester.stats.duplicates + ingester.stats.deadLetters >= total;

/**
 * Publishes 10× the store's size while the ingester runs: the work-queue stream frees what was
 * ingested, so the publishers finish by getting everything stored (retrying while the stream is full).
 */
export async function storageFull(db: TestDatabase, storeBytes: number, pointsPerEvent: number) {
  const server = await smallStoreServer(storeBytes);
  const nc = await connectNats({ servers: server.url });
  const names = uniqueNames('full');
  try {
    const limits = {
      ...names,
      maxBytes: Math.floor(storeBytes / 2),
      dlqMaxBytes: Math.floor(storeBytes / 8),
    };
    await ensureStreams(nc, limits);
    const { sweepId, trialIds } = await seedSweep(db.store, 10, `full-${names.prefix}`);
    const sample = makeEvents(sweepId, trialIds, 1, pointsPerEvent);
    const eventBytes = encodeEvent(sample[0]!).byteLength;
    const count = Math.ceil((10 * storeBytes) / eventBytes);
    const events = makeEvents(sweepId, trialIds, count, pointsPerEvent);
    const ingester = new Ingester(
      db.store,
      new NatsEventSource(nc, { ...limits, ackWaitMs: 30_000 }),
    ).start();
    const start = performance.now();
    const published = await publishAll(nc, names, events, 120_000);
    await waitFor('the small store drained', settled(ingester, published.failure ? published.acked : count), {
      timeoutMs: 300_000,
      intervalMs: 50,
    });
    const seconds = (performance.now() - start) / 1000;
    await ingester.stop();
    const stored = await storedEvents(db, trialIds);
    return {
      storeBytes,
      publishedBytes: count * eventBytes,
      events: count,
      publishersFinished: true,
      publishFailure: published.failure,
      fullRefusals: published.retries,
      lost: count - stored.distinct,
      duplicates: stored.rows - stored.distinct,
      seconds: Number(seconds.toFixed(2)),
    };
  } finally {
    await nc.close();
    await server.dispose();
  }
}

/**
 * `count` events wait in the stream; `esweep ingest` starts, in a process of its own, while the
 * database refuses connections, and waits through `outageMs` of it with a 1 s ack wait. Reports that
 * process's peak RSS (during the outage, and to the end of the catch-up) and deliveries per event.
 */
export async function dbOutage(db: TestDatabase, nc: NatsConnection, count: number, outageMs: number) {
  const names = uniqueNames('outage');
  let ingester: IngesterProcess | null = null;
  try {
    await ensureStreams(nc, names);
    const { sweepId, trialIds } = await seedSweep(db.store, 10, `outage-${names.prefix}`);
    const ackWaitMs = 1000;
    // It will not start without a database, so it starts first, on the empty stream; the events are
    // published once the outage has begun, and wait for it.
    ingester = await IngesterProcess.start({
      databaseUrl: urlFor(db.name),
      natsUrl: TEST_NATS_URL,
      ...names,
      durable: 'outage',
      ackWaitMs,
    });
    const rssAtStartMb = ingester.memoryMb().rss;
    let peakHeld = 0;
    let outagePeakMb = 0;
    await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS false`);
    try {
      await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
      const until = Date.now() + outageMs;
      const sampling = (async (held: IngesterProcess) => {
        for (; Date.now() < until; await sleep(250)) {
          peakHeld = Math.max(peakHeld, await held.metric('esweep_ingest_in_flight_messages'));
        }
      })(ingester);
      await publishAll(nc, names, makeEvents(sweepId, trialIds, count, 10));
      await sampling;
      outagePeakMb = ingester.memoryMb().peak;
    } finally {
      await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`);
    }
    await waitFor(
      'caught up after the outage',
      async () => (await storedEvents(db, trialIds)).distinct >= count,
      {
        timeoutMs: 300_000,
        intervalMs: 500,
      },
    );
    const peakMb = ingester.memoryMb().peak;
    const totals = await ingester.stop(nc);
    ingester = null;
    const stored = await storedEvents(db, trialIds);
    return {
      events: count,
      outageSeconds: outageMs / 1000,
      ackWaitMs,
      process: 'esweep ingest (child process)',
      rssAtStartMb: Math.round(rssAtStartMb),
      outagePeakRssMb: Math.round(outagePeakMb),
      peakRssMb: Math.round(peakMb),
      peakHeldMessages: peakHeld,
      deliveriesPerEvent: Number((totals.messages / count).toFixed(3)),
      lost: count - stored.distinct,
      duplicates: stored.rows - stored.distinct,
    };
  } finally {
    await ingester?.kill(nc).catch(() => {});
    await deleteStreams(nc, names).catch(() => {});
  }
}

/**
 * Seconds to ingest `count` waiting events: clean, then with `poisonShare` of them spoilt in each way
 * of POISONS. The constraint behind the `database` kind is on this run's table only while it runs.
 */
export async function poison(db: TestDatabase, nc: NatsConnection, count: number, poisonShare: number) {
  const every = Math.round(1 / poisonShare);
  const run = async (kind: PoisonKind | null) => {
    const names = uniqueNames(kind ? `poison${kind}` : 'clean');
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 10, `${names.prefix}`);
      const isPoison = (i: number) => (kind && i % every === every - 1 ? kind : null);
      await publishAll(nc, names, makeEvents(sweepId, trialIds, count, 10, isPoison));
      const ingester = new Ingester(db.store, new NatsEventSource(nc, names));
      const start = performance.now();
      ingester.start();
      await waitFor('ingested', settled(ingester, count), { timeoutMs: 600_000, intervalMs: 20 });
      const seconds = (performance.now() - start) / 1000;
      await ingester.stop();
      return {
        seconds,
        deadLetters: ingester.stats.deadLettersByReason,
        dbErrors: ingester.stats.dbErrors,
        stored: (await storedEvents(db, trialIds)).distinct,
      };
    } finally {
      await deleteStreams(nc, names).catch(() => {});
    }
  };
  const expectedDeadLetters = Math.floor(count / every);
  const clean = await run(null);
  const poisoned = async (kind: PoisonKind) => {
    const result = await run(kind);
    const { reason } = POISONS[kind];
    return {
      reason,
      seconds: Number(result.seconds.toFixed(2)),
      slowdown: Number((result.seconds / clean.seconds).toFixed(2)),
      deadLetters: result.deadLetters[reason] ?? 0,
      otherDeadLetters:
        Object.values(result.deadLetters).reduce((a, b) => a + b, 0) - (result.deadLetters[reason] ?? 0),
      refusedWrites: result.dbErrors,
      stored: result.stored,
    };
  };
  const arrival = await poisoned('arrival');
  await db.prisma.$executeRawUnsafe(
    `ALTER TABLE metric_point ADD CONSTRAINT bench_poison CHECK (name <> '${POISONS.database.metric}')`,
  );
  let database: Awaited<ReturnType<typeof poisoned>>;
  try {
    database = await poisoned('database');
  } finally {
    await db.prisma.$executeRawUnsafe('ALTER TABLE metric_point DROP CONSTRAINT bench_poison');
  }
  return {
    events: count,
    poisonShare,
    expectedDeadLetters,
    cleanSeconds: Number(clean.seconds.toFixed(2)),
    arrival,
    database,
  };
}
