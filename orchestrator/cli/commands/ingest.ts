import type { Command } from 'commander';
import { z } from 'zod';
import { credsFileOptions } from '../../events/credentials.ts';
import { connectNats, DEFAULT_NATS_URL, NatsEventSource } from '../../events/nats.ts';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '../../events/protocol.ts';
import { Ingester } from '../../ingest/ingester.ts';
import { storeOf } from '../../store/prisma-store.ts';
import { databaseHelp, withMigratedDatabase } from '../database.ts';
import { numberIn, parseOptions } from '../options.ts';

const positive = () => numberIn('must be a positive integer', (n) => Number.isInteger(n) && n > 0);
const schema = z.object({
  database: z.string().optional(),
  nats: z.string().optional(),
  natsCreds: z.string().min(1).optional(),
  stream: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  ackWait: positive(),
  batch: positive(),
  maxClockSkew: positive(),
  migrate: z.boolean().optional(),
  verbose: z.boolean().optional(),
});

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
    .option('--migrate', 'apply pending migrations first (an embedded database always is)')
    .option('--verbose', 'log every batch')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const log = (entry: Record<string, unknown>) => {
        if (entry.level === 'debug' && !options.verbose) return;
        process.stdout.write(`${JSON.stringify(entry)}\n`);
      };
      const onPoolError = (error: Error) =>
        log({ level: 'warn', msg: 'database connection lost', error: error.message });
      await withMigratedDatabase(
        options,
        async (database, where) => {
          const nc = await connectNats({
            servers: options.nats,
            name: 'esweep-ingest',
            connection: credsFileOptions(options.natsCreds ?? (process.env.NATS_CREDS || undefined)),
          });
          const source = new NatsEventSource(nc, {
            stream: options.stream,
            prefix: options.prefix,
            durable: options.durable,
            ackWaitMs: options.ackWait,
          });
          const ingester = new Ingester(storeOf(database), source, {
            maxBatch: options.batch,
            maxClockSkewMs: options.maxClockSkew,
            log,
          }).start();
          log({
            time: new Date().toISOString(),
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
          log({ time: new Date().toISOString(), level: 'info', msg: 'stopped', ...ingester.stats });
          await nc.drain();
        },
        { onPoolError },
      );
    });
}
