import type { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '../../events/protocol.ts';

const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const positive = () => z.coerce.number().int().positive({ message: 'must be a positive integer' });
const schema = z.object({
  database: z.string().optional(),
  nats: z.string().optional(),
  stream: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  prefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  durable: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only'),
  ackWait: positive(),
  batch: positive(),
  migrate: z.boolean().optional(),
  verbose: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command('ingest')
    .description('consume trial events from NATS JetStream into the results database (runs until SIGTERM)')
    .option('--database <location>', 'postgres:// URL or pglite:DIR (default $DATABASE_URL)')
    .option('--nats <url>', `NATS server (default $NATS_URL, else ${DEFAULT_NATS_URL})`)
    .option('--stream <name>', 'JetStream stream', DEFAULT_STREAM)
    .option('--prefix <prefix>', 'subject prefix', DEFAULT_SUBJECT_PREFIX)
    .option('--durable <name>', 'durable consumer name (replicas share it)', 'ingester')
    .option('--ack-wait <ms>', 'redelivery delay of unacked messages', '30000')
    .option('--batch <n>', 'messages per transaction at most', '2000')
    .option('--migrate', 'apply pending migrations first')
    .option('--verbose', 'log every batch')
    .action(async (raw: object) => {
      const options = schema.parse(raw);
      // Heavy modules (Prisma, PGlite, NATS) load only when this command runs.
      const { describeTarget, openDatabase, resolveDatabaseTarget } = await import('../../db/client.ts');
      const { migrate } = await import('../../db/migrate.ts');
      const { connectNats, NatsEventSource } = await import('../../events/nats.ts');
      const { Ingester } = await import('../../ingest/ingester.ts');
      const target = resolveDatabaseTarget(options.database);
      const log = (entry: Record<string, unknown>) => {
        if (entry.level === 'debug' && !options.verbose) return;
        process.stdout.write(`${JSON.stringify(entry)}\n`);
      };
      const database = await openDatabase(target, {
        onPoolError: (error) => log({ level: 'warn', msg: 'database connection lost', error: error.message }),
      });
      if (options.migrate) await migrate(database);
      const nc = await connectNats({ servers: options.nats, name: 'esweep-ingest' });
      const source = new NatsEventSource(nc, {
        stream: options.stream,
        prefix: options.prefix,
        durable: options.durable,
        ackWaitMs: options.ackWait,
      });
      const ingester = new Ingester(database.prisma, source, { maxBatch: options.batch, log }).start();
      log({
        time: new Date().toISOString(),
        level: 'info',
        msg: 'ingesting',
        database: describeTarget(target),
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
      await database.close();
    });
}
