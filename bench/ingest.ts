// npm run bench:ingest [-- --json] [--points 200000] [--points-per-event 100] [--trials 20]
//   [--store-mb 4] [--outage-events 30000] [--outage-seconds 60] [--poison-events 20000]
// Publishes metric points through NATS JetStream (windowed publisher) into PostgreSQL (ingester), and
// in the same run measures a plain `unnest` INSERT of the same rows: the floor the pipeline is judged
// against. Targets: no point lost or duplicated, and at least 0.5× the floor and 30,000 points/s.
// Then under pressure (bench/ingest-pressure.ts): `storageFull` (10× a small store published: nothing
// lost or duplicated, publishers finished), `dbOutage` (events waiting through a database outage at a
// 1 s ack wait: peak RSS of the `esweep ingest` process ≤ 400 MB, ≤ 1.5 deliveries per event) and
// `poison` (0.5 % of events a worker can send that are refused on arrival: ≤ 1.5× the clean run's
// seconds; the cost of a poison only the database refuses is reported beside it).
// Uses its own database and stream (dropped afterwards) on the servers given by
// ESWEEP_TEST_DATABASE_URL / ESWEEP_TEST_NATS_URL (defaults: the local ones). For a smoke run, pass
// fewer points (e.g. --points 20000).

import { setTimeout as sleep } from 'node:timers/promises';
import { connectNats, ensureStreams, NatsEventSink, NatsEventSource } from '../orchestrator/events/nats.ts';
import { EventPublisher, TrialReporter } from '../orchestrator/events/publisher.ts';
import { deleteStreams, TEST_NATS_URL, uniqueNames } from '../orchestrator/events/test-support.ts';
import { Ingester } from '../orchestrator/ingest/ingester.ts';
import { insertPointRows, type PointColumns } from '../orchestrator/store/event-writes.ts';
import { createTestDatabase, seedSweep } from '../orchestrator/store/test-support.ts';
import { benchFlags, readFlags, wholeNumber } from './flags.ts';
import { dbOutage, poison, storageFull } from './ingest-pressure.ts';
import { finish, headline, verdict } from './verdict.ts';

const MIN_RATIO_TO_RAW = 0.5;
const MIN_POINTS_PER_SECOND = 30_000;
const MAX_PEAK_RSS_MB = 400;
const MAX_DELIVERIES_PER_EVENT = 1.5;
const MAX_POISON_SLOWDOWN = 1.5;
const POISON_SHARE = 0.005;

const values = benchFlags({
  name: 'ingest',
  about: `Metric points through NATS JetStream into PostgreSQL (the ingester), then under pressure
(storage full, a database outage, poison events). Baseline: a plain unnest INSERT of the same rows.
Targets: no point lost or duplicated, ≥ ${MIN_RATIO_TO_RAW}× the baseline and ≥ ${MIN_POINTS_PER_SECOND} points/s; outage peak
RSS ≤ ${MAX_PEAK_RSS_MB} MB and ≤ ${MAX_DELIVERIES_PER_EVENT} deliveries per event; poison ≤ ${MAX_POISON_SLOWDOWN}× the clean run.
Needs ESWEEP_TEST_DATABASE_URL / ESWEEP_TEST_NATS_URL (default: the local servers).`,
  flags: {
    points: {
      type: 'string',
      default: '200000',
      value: 'N',
      about: 'metric points published (smoke run: 20000)',
    },
    'points-per-event': { type: 'string', default: '100', value: 'N', about: 'points in one event' },
    trials: { type: 'string', default: '20', value: 'N', about: 'trials the points are spread over' },
    'store-mb': {
      type: 'string',
      default: '4',
      value: 'N',
      about: 'JetStream store of the storageFull case, MiB',
    },
    'outage-events': { type: 'string', default: '30000', value: 'N', about: 'events of the dbOutage case' },
    'outage-seconds': {
      type: 'string',
      default: '60',
      value: 'N',
      about: 'length of the database outage, s',
    },
    'poison-events': {
      type: 'string',
      default: '20000',
      value: 'N',
      about: 'events of the poison case (≥ 200)',
    },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const { totalPoints, perEvent, trialCount, pressure } = readFlags('ingest', () => ({
  totalPoints: wholeNumber('points', values.points),
  perEvent: wholeNumber('points-per-event', values['points-per-event']),
  trialCount: wholeNumber('trials', values.trials),
  pressure: {
    storeMb: wholeNumber('store-mb', values['store-mb']),
    outageEvents: wholeNumber('outage-events', values['outage-events']),
    outageSeconds: wholeNumber('outage-seconds', values['outage-seconds']),
    poisonEvents: wholeNumber('poison-events', values['poison-events'], 200),
  },
}));
const say = (line: string) => {
  if (!values.json) process.stderr.write(`${line}\n`);
};

const db = await createTestDatabase('bench', { poolSize: 4 });
const nc = await connectNats({ servers: TEST_NATS_URL, name: 'esweep-bench' });
const names = uniqueNames('bench');
try {
  const [pg] = await db.prisma.$queryRaw<{ server_version: string }[]>`SHOW server_version`;
  const backend = `NATS ${nc.info?.version ?? '?'} → PostgreSQL ${pg?.server_version.split(' ')[0] ?? '?'}`;
  headline(
    'ingest',
    backend,
    `${totalPoints} metric points in events of ${perEvent} from ${trialCount} trials, against a plain unnest INSERT`,
  );
  const { sweepId, trialIds } = await seedSweep(db.store, trialCount);
  const perTrial = Math.ceil(totalPoints / trialCount);
  const metricNames = ['loss', 'accuracy', 'lr', 'grad_norm'];
  // Point k of a trial: step ⌊k/4⌋, one of four curves. Deterministic, so lost/duplicates can be counted.
  const pointOf = (k: number) => ({ step: Math.floor(k / 4), name: metricNames[k % 4]!, value: Math.sin(k) });

  // 1. The floor: the same rows inserted by a plain unnest INSERT, in the pipeline's batch size.
  const rawRows: PointColumns = { trial: [], attempt: [], seq: [], idx: [], step: [], name: [], value: [] };
  let made = 0;
  for (let t = 0; t < trialCount && made < totalPoints; t++) {
    for (let k = 0; k < perTrial && made < totalPoints; k++, made++) {
      const p = pointOf(k);
      rawRows.trial.push(trialIds[t]!);
      rawRows.attempt.push(1);
      rawRows.seq.push(Math.floor(k / perEvent));
      rawRows.idx.push(k % perEvent);
      rawRows.step.push(p.step);
      rawRows.name.push(p.name);
      rawRows.value.push(p.value);
    }
  }
  const chunk = 20_000;
  const insertChunk = (i: number) => {
    const slice = <T>(a: T[]) => a.slice(i, i + chunk);
    return db.prisma.$transaction((tx) =>
      insertPointRows(tx, {
        trial: slice(rawRows.trial),
        attempt: slice(rawRows.attempt),
        seq: slice(rawRows.seq),
        idx: slice(rawRows.idx),
        step: slice(rawRows.step),
        name: slice(rawRows.name),
        value: slice(rawRows.value),
      }),
    );
  };
  // Warm up (connections, plan cache, JIT) so the floor is not flattered by a cold start.
  await insertChunk(0);
  await db.prisma.$executeRawUnsafe('TRUNCATE metric_point');
  const rawStart = performance.now();
  for (let i = 0; i < made; i += chunk) await insertChunk(i);
  const rawSeconds = (performance.now() - rawStart) / 1000;
  const rawInsertPerSecond = made / rawSeconds;
  say(
    `raw unnest insert: ${made} rows in ${rawSeconds.toFixed(2)} s = ${Math.round(rawInsertPerSecond)} rows/s`,
  );
  await db.prisma.$executeRawUnsafe('TRUNCATE metric_point');
  await db.prisma.$executeRawUnsafe('VACUUM ANALYZE metric_point');

  // 2. The pipeline: publisher → JetStream → ingester → PostgreSQL.
  await ensureStreams(nc, names);
  const source = new NatsEventSource(nc, { ...names, durable: 'bench' });
  const ingester = new Ingester(db.store, source).start();
  const publisher = new EventPublisher(new NatsEventSink(nc), { window: 512 });
  const start = performance.now();
  const reporters = trialIds.map(
    (trialId) =>
      new TrialReporter(publisher, {
        sweepId,
        trialId,
        attempt: 1,
        prefix: names.prefix,
        maxPointsPerEvent: perEvent,
      }),
  );
  let sent = 0;
  for (let k = 0; k < perTrial && sent < totalPoints; k += perEvent) {
    for (const reporter of reporters) {
      const n = Math.min(perEvent, perTrial - k, totalPoints - sent);
      if (n <= 0) break;
      await reporter.metrics(Array.from({ length: n }, (_, j) => pointOf(k + j)));
      sent += n;
    }
  }
  await publisher.flush();
  const published = performance.now();
  say(
    `published ${sent} points in ${publisher.stats.acked} events in ${((published - start) / 1000).toFixed(2)} s`,
  );
  const deadline = Date.now() + 300_000;
  while (ingester.stats.points < sent && Date.now() < deadline) await sleep(5);
  const seconds = (performance.now() - start) / 1000;
  await ingester.stop();
  const [counts] = await db.prisma.$queryRaw<{ rows: bigint; distinct_points: bigint }[]>`
    SELECT count(*) AS rows, count(DISTINCT (trial_id, attempt, step, name)) AS distinct_points FROM metric_point`;
  const rows = Number(counts!.rows);
  const distinct = Number(counts!.distinct_points);
  const result = {
    points: sent,
    seconds: Number(seconds.toFixed(3)),
    pointsPerSecond: Math.round(sent / seconds),
    rawInsertPerSecond: Math.round(rawInsertPerSecond),
    lost: sent - distinct,
    duplicates: rows - distinct,
  };
  const ratioToRaw = result.pointsPerSecond / result.rawInsertPerSecond;
  const baseline = `unnest INSERT ${result.rawInsertPerSecond} rows/s`;
  const pipeline = `${result.pointsPerSecond} points/s = ${ratioToRaw.toFixed(2)}× the INSERT`;
  verdict({
    name: 'nothing lost or duplicated',
    figure: `${result.lost} lost, ${result.duplicates} duplicated of ${sent}`,
    baseline,
    target: '0 lost and 0 duplicated',
    met: result.lost === 0 && result.duplicates === 0,
    backend,
  });
  verdict({
    name: 'throughput against the floor',
    figure: pipeline,
    baseline,
    target: `≥ ${MIN_RATIO_TO_RAW}× the INSERT`,
    met: ratioToRaw >= MIN_RATIO_TO_RAW,
    backend,
  });
  verdict({
    name: 'throughput',
    figure: pipeline,
    baseline,
    target: `≥ ${MIN_POINTS_PER_SECOND} points/s`,
    met: result.pointsPerSecond >= MIN_POINTS_PER_SECOND,
    backend,
  });

  say(`storageFull: publishing 10× a ${pressure.storeMb} MiB JetStream store while the ingester runs…`);
  const full = await storageFull(db, pressure.storeMb * 1024 * 1024, perEvent);
  verdict({
    name: 'storageFull: nothing lost or duplicated, publishers finished',
    figure: `${full.lost} lost, ${full.duplicates} duplicated of ${full.events} events (${(full.publishedBytes / 1024 / 1024).toFixed(1)} MiB into a ${pressure.storeMb} MiB store, ${full.fullRefusals} sends refused and retried, ${full.publishFailure ? `failed: ${full.publishFailure}` : 'all stored'}) in ${full.seconds} s`,
    baseline: 'the same pipeline with room to spare (above)',
    target: '0 lost, 0 duplicated, publishers finished',
    met: full.lost === 0 && full.duplicates === 0 && full.publishersFinished && full.publishFailure === null,
    backend,
  });
  say(
    `dbOutage: ${pressure.outageEvents} events waiting through a ${pressure.outageSeconds} s database outage…`,
  );
  const outage = await dbOutage(db, nc, pressure.outageEvents, pressure.outageSeconds * 1000);
  verdict({
    name: 'dbOutage: peak RSS of the ingester process',
    figure: `${outage.peakRssMb} MB (${outage.outagePeakRssMb} MB by the end of the outage, ${outage.rssAtStartMb} MB when it began; at most ${outage.peakHeldMessages} messages held)`,
    baseline: `${outage.events} events waiting, ${outage.outageSeconds} s outage, ${outage.ackWaitMs} ms ack wait, then the catch-up; ${outage.process}`,
    target: `≤ ${MAX_PEAK_RSS_MB} MB`,
    met: outage.peakRssMb <= MAX_PEAK_RSS_MB,
    backend,
  });
  verdict({
    name: 'dbOutage: deliveries per event',
    figure: `${outage.deliveriesPerEvent} (${outage.lost} lost, ${outage.duplicates} duplicated)`,
    baseline: '1 = no redelivery',
    target: `≤ ${MAX_DELIVERIES_PER_EVENT}, nothing lost or duplicated`,
    met:
      outage.deliveriesPerEvent <= MAX_DELIVERIES_PER_EVENT && outage.lost === 0 && outage.duplicates === 0,
    backend,
  });
  say(`poison: ${pressure.poisonEvents} events, clean and with ${POISON_SHARE * 100} % poison of each kind…`);
  const poisoned = await poison(db, nc, pressure.poisonEvents, POISON_SHARE);
  // The target is judged on what a worker can send: every such poison is refused on arrival. A poison
  // only the database refuses takes a CHECK constraint the bench adds; its cost is reported, not judged.
  const judged = poisoned.arrival;
  verdict({
    name: 'poison dated year 0, refused on arrival: slowdown',
    figure: `${judged.seconds} s with ${judged.deadLetters} dead letters (${judged.reason}) = ${judged.slowdown}× (${judged.stored} stored, ${judged.refusedWrites} writes refused)`,
    baseline: `clean run ${poisoned.cleanSeconds} s`,
    target: `≤ ${MAX_POISON_SLOWDOWN}×, every poison event dead-lettered`,
    met:
      judged.slowdown <= MAX_POISON_SLOWDOWN &&
      judged.deadLetters === poisoned.expectedDeadLetters &&
      judged.otherDeadLetters === 0,
    backend,
  });
  const dbOnly = poisoned.database;
  const isolated = dbOnly.deadLetters === poisoned.expectedDeadLetters && dbOnly.otherDeadLetters === 0;
  say(
    `poison refused by the database alone (a CHECK constraint of the bench; no target): ${dbOnly.seconds} s = ${dbOnly.slowdown}× the clean run, ${dbOnly.deadLetters} dead letters (${dbOnly.reason}), ${dbOnly.refusedWrites} writes refused${isolated ? '' : ' — NOT every poison event isolated'}`,
  );
  if (!isolated) process.exitCode = 1;

  const summary = finish();
  if (values.json) {
    const pressureResults = { storageFull: full, dbOutage: outage, poison: poisoned };
    process.stdout.write(`${JSON.stringify({ backend, ...result, ...pressureResults, ...summary })}\n`);
  }
} finally {
  await deleteStreams(nc, names).catch(() => {});
  await nc.close();
  await db.dispose();
}
