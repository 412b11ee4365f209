import { setTimeout as sleep } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, ensureStreams, NatsEventSink, NatsEventSource } from '../orchestrator/events/nats.ts';
import { encodeEvent, messageId, subjectFor, type TrialEvent } from '../orchestrator/events/protocol.ts';
import { EventPublisher, PublishFailedError } from '../orchestrator/events/publisher.ts';
import { deleteStreams, uniqueNames } from '../orchestrator/events/test-support.ts';
import { smallStoreServer } from '../orchestrator/events/testing/small-store-server.ts';
import { Ingester } from '../orchestrator/ingest/ingester.ts';
import { adminQuery, seedSweep, type TestDatabase } from '../orchestrator/store/test-support.ts';
import { waitFor } from '../test/support/wait.ts';

type Names = { stream: string; prefix: string };

/** `count` metrics events of `points` points each, spread over the trials; `poison(i)` dates event i in year 0. */
function makeEvents(
  sweepId: string,
  trialIds: string[],
  count: number,
  points: number,
  poison: (i: number) => boolean = () => false,
): TrialEvent[] {
  const seqs = new Map<string, number>();
  return Array.from({ length: count }, (_, i) => {
    const trialId = trialIds[i % trialIds.length]!;
    const seq = seqs.get(trialId) ?? 0;
    seqs.set(trialId, seq + 1);
    return {
      v: 1,
      kind: 'metrics',
      sweepId,
      trialId,
      attempt: 1,
      seq,
      time: poison(i) ? '0000-01-01T00:00:00Z' : new Date().toISOString(),
      points: Array.from({ length: points }, (_, j) => ({ step: seq * points + j, name: 'loss', value: j })),
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
 * `count` events wait in the stream; the ingester starts while the database refuses connections for
 * `outageMs`, with a 1 s ack wait. Reports this process's peak RSS and deliveries per event.
 */
export async function dbOutage(db: TestDatabase, nc: NatsConnection, count: number, outageMs: number) {
  const names = uniqueNames('outage');
  try {
    await ensureStreams(nc, names);
    const { sweepId, trialIds } = await seedSweep(db.store, 10, `outage-${names.prefix}`);
    await publishAll(nc, names, makeEvents(sweepId, trialIds, count, 10));
    const ackWaitMs = 1000;
    const ingester = new Ingester(db.store, new NatsEventSource(nc, { ...names, ackWaitMs }), {
      keepAliveMs: ackWaitMs / 3,
      maxBackoffMs: 1000,
    });
    const rssAtStart = process.memoryUsage().rss;
    let peakRss = rssAtStart;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS false`);
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
    let peakHeld = 0;
    try {
      ingester.start();
      for (const until = Date.now() + outageMs; Date.now() < until; await sleep(100)) {
        peakHeld = Math.max(peakHeld, ingester.held.messages);
      }
    } finally {
      await adminQuery(`ALTER DATABASE "${db.name}" WITH ALLOW_CONNECTIONS true`);
    }
    await waitFor('caught up after the outage', settled(ingester, count), {
      timeoutMs: 300_000,
      intervalMs: 100,
    });
    clearInterval(sampler);
    await ingester.stop();
    const stored = await storedEvents(db, trialIds);
    return {
      events: count,
      outageSeconds: outageMs / 1000,
      ackWaitMs,
      rssAtStartMb: Math.round(rssAtStart / 1024 / 1024),
      peakRssMb: Math.round(peakRss / 1024 / 1024),
      peakHeldMessages: peakHeld,
      deliveriesPerEvent: Number((ingester.stats.messages / count).toFixed(3)),
      lost: count - stored.distinct,
      duplicates: stored.rows - stored.distinct,
    };
  } finally {
    await deleteStreams(nc, names).catch(() => {});
  }
}

/** Seconds to ingest `count` waiting events, clean and with `poisonShare` of them dated year 0. */
export async function poison(db: TestDatabase, nc: NatsConnection, count: number, poisonShare: number) {
  const every = Math.round(1 / poisonShare);
  const run = async (poisoned: boolean) => {
    const names = uniqueNames(poisoned ? 'poison' : 'clean');
    try {
      await ensureStreams(nc, names);
      const { sweepId, trialIds } = await seedSweep(db.store, 10, `${names.prefix}`);
      const isPoison = (i: number) => poisoned && i % every === every - 1;
      await publishAll(nc, names, makeEvents(sweepId, trialIds, count, 10, isPoison));
      const ingester = new Ingester(db.store, new NatsEventSource(nc, names));
      const start = performance.now();
      ingester.start();
      await waitFor('ingested', settled(ingester, count), { timeoutMs: 600_000, intervalMs: 20 });
      const seconds = (performance.now() - start) / 1000;
      await ingester.stop();
      return {
        seconds,
        deadLetters: ingester.stats.deadLetters,
        stored: (await storedEvents(db, trialIds)).distinct,
      };
    } finally {
      await deleteStreams(nc, names).catch(() => {});
    }
  };
  const clean = await run(false);
  const poisoned = await run(true);
  return {
    events: count,
    poisonShare,
    cleanSeconds: Number(clean.seconds.toFixed(2)),
    poisonSeconds: Number(poisoned.seconds.toFixed(2)),
    slowdown: Number((poisoned.seconds / clean.seconds).toFixed(2)),
    deadLetters: poisoned.deadLetters,
    expectedDeadLetters: Math.floor(count / every),
    stored: poisoned.stored,
  };
}
