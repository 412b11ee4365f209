import type { NatsConnection } from '@nats-io/transport-node';
import type { Command } from 'commander';
import { z } from 'zod';
import { type HealthServer, serveHealth } from '../../../common/health-server.ts';
import { ARTIFACT_BUCKET, ensureArtifactBucket } from '../../events/artifacts.ts';
import { credsFileOptions } from '../../events/credentials.ts';
import {
  connectNats,
  DEFAULT_DLQ_MAX_BYTES,
  DEFAULT_NATS_URL,
  DEFAULT_STREAM_MAX_BYTES,
  NatsEventSource,
} from '../../events/nats.ts';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '../../events/protocol.ts';
import { Ingester } from '../../ingest/ingester.ts';
import { IngesterMetrics } from '../../ingest/metrics.ts';
import { storeOf } from '../../store/prisma-store.ts';
import type { EventStore } from '../../store/store.ts';
import { databaseHelp, withMigratedDatabase } from '../database.ts';
import { numberIn, parseOptions } from '../options.ts';

const MIB = 1024 * 1024;
const positive = () => numberIn('must be a positive integer', (n) => Number.isInteger(n) && n > 0);
const atLeastZero = () => numberIn('must be a number ≥ 0', (n) => n >= 0);
const name = () => z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only');
const schema = z.object({
  database: z.string().optional(),
  nats: z.string().optional(),
  natsCreds: z.string().min(1).optional(),
  stream: name(),
  prefix: name(),
  durable: name(),
  ackWait: positive(),
  batch: positive(),
  maxBuffered: positive(),
  maxBufferedMb: positive(),
  streamMaxMb: positive(),
  dlqMaxMb: positive(),
  artifactBucket: name(),
  artifactTtlHours: atLeastZero(),
  connectDeadline: atLeastZero(),
  metricsPort: numberIn(
    'must be a port number (0-65535)',
    (n) => Number.isInteger(n) && n >= 0 && n < 65536,
  ).optional(),
  maxClockSkew: positive(),
  migrate: z.boolean().optional(),
  verbose: z.boolean().optional(),
});

/** Resolves within `ms` or counts as not answering. */
async function answersWithin(ms: number, probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('consume trial events from NATS JetStream into the results database (runs until SIGTERM)')
    .option('--database <location>', databaseHelp)
    .option('--nats <url>', `NATS server (default $NATS_URL, else ${DEFAULT_NATS_URL})`)
    .option('--nats-creds <file>', 'NATS user credentials (operator mode; default $NATS_CREDS)')
    .option('--stream <name>', 'JetStream stream', DEFAULT_STREAM)
    .option('--prefix <prefix>', 'subject prefix', DEFAULT_SUBJECT_PREFIX)
    .option('--durable <name>', 'durable consumer name (replicas share it)', 'ingester')
    .option('--ack-wait <ms>', 'redelivery delay of unacked messages', '30000')
    .option('--batch <n>', 'messages per transaction at most', '2000')
    .option('--max-clock-skew <ms>', 'how far an event may be dated after its receipt', '60000')
    .option('--max-buffered <n>', 'messages held (read, not yet acked) at most', '10000')
    .option('--max-buffered-mb <n>', 'MiB of messages held at most', '64')
    .option(
      '--stream-max-mb <n>',
      'MiB the events stream may hold (full: publishers wait, then fail)',
      String(DEFAULT_STREAM_MAX_BYTES / MIB),
    )
    .option(
      '--dlq-max-mb <n>',
      'MiB the dead-letter stream keeps (the oldest go first)',
      String(DEFAULT_DLQ_MAX_BYTES / MIB),
    )
    .option('--artifact-bucket <name>', 'object store bucket of the artifacts', ARTIFACT_BUCKET)
    .option(
      '--artifact-ttl-hours <h>',
      'hours an artifact is kept (0 = for ever); set on the bucket at start',
      '168',
    )
    .option(
      '--connect-deadline <s>',
      'give up (exit 69) when NATS cannot be reached for this long (0 = keep trying)',
      '300',
    )
    .option('--metrics-port <port>', 'serve /healthz, /readyz and /metrics on this port (0 = any)')
    .option('--migrate', 'apply pending migrations first (an embedded database always is)')
    .option('--verbose', 'log every batch')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const log = (entry: Record<string, unknown>) => {
        if (entry.level === 'debug' && !options.verbose) return;
        process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
      };
      const onPoolError = (error: Error) =>
        log({ level: 'warn', msg: 'database connection lost', error: error.message });
      // Filled in as they come up; the endpoints answer from the start (alive, not ready).
      let store: EventStore | null = null;
      let nc: NatsConnection | null = null;
      let source: NatsEventSource | null = null;
      let ingester: Ingester | null = null;
      const metrics = new IngesterMetrics(
        () => ingester,
        () => source,
      );
      let server: HealthServer | null = null;
      if (options.metricsPort !== undefined) {
        server = await serveHealth(
          {
            healthy: () => true,
            ready: async () => {
              const [natsOk, dbOk] = await Promise.all([
                nc && !nc.isClosed() ? answersWithin(2000, () => nc!.flush()) : false,
                store ? answersWithin(2000, () => store!.ping()) : false,
              ]);
              return natsOk && dbOk;
            },
            metrics: () => metrics.render(),
          },
          options.metricsPort,
        );
        log({ level: 'info', msg: 'serving /healthz, /readyz, /metrics', port: server.port });
      }
      try {
        await withMigratedDatabase(
          options,
          async (database, where) => {
            store = storeOf(database);
            nc = await connectNats({
              servers: options.nats,
              name: 'esweep-ingest',
              deadlineMs: options.connectDeadline * 1000,
              onAttempt: (attempt) => log({ level: 'warn', msg: 'nats connect failed', ...attempt }),
              connection: credsFileOptions(options.natsCreds ?? (process.env.NATS_CREDS || undefined)),
            });
            await ensureArtifactBucket(nc, options.artifactBucket, {
              ttlMs: options.artifactTtlHours * 3600_000,
            });
            source = new NatsEventSource(nc, {
              stream: options.stream,
              prefix: options.prefix,
              durable: options.durable,
              ackWaitMs: options.ackWait,
              maxBytes: options.streamMaxMb * MIB,
              dlqMaxBytes: options.dlqMaxMb * MIB,
            });
            ingester = new Ingester(store, source, {
              maxBatch: options.batch,
              maxClockSkewMs: options.maxClockSkew,
              maxBuffered: options.maxBuffered,
              maxBufferedBytes: options.maxBufferedMb * MIB,
              keepAliveMs: Math.floor(options.ackWait / 3),
              observeWrite: (seconds) => metrics.observeWrite(seconds),
              log,
            }).start();
            log({
              level: 'info',
              msg: 'ingesting',
              database: where,
              nats: nc.getServer(),
              stream: options.stream,
              durable: options.durable,
            });
            await new Promise<void>((resolve) => {
              process.once('SIGINT', resolve);
              process.once('SIGTERM', resolve);
            });
            await ingester.stop();
            log({ level: 'info', msg: 'stopped', ...ingester.stats });
            await nc.drain();
          },
          { onPoolError },
        );
      } finally {
        server?.close();
      }
    });
}
