// `esweep nats-bootstrap`: a new NATS trust chain for operator mode (docs/security.md), written as
// files: the server's configuration, the JWTs, the seeds (each its own 0600 file, so each can go
// where it belongs: the operator's and the account's identity keys offline, the signing key to the
// controller), and long-lived credentials for the ingester.
import { constants, existsSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../../common/errors.ts';
import {
  AccountSigner,
  createTrustChain,
  ingesterPermissions,
  serverConfig,
  trustConfig,
} from '../../events/credentials.ts';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '../../events/protocol.ts';
import { numberIn, parseOptions } from '../options.ts';

const token = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ or - only');
const schema = z.object({
  out: z.string().min(1),
  port: numberIn('must be a port number (1–65535)', (n) => Number.isInteger(n) && n >= 1 && n <= 65535),
  host: z.string().min(1),
  storeDir: z.string().min(1),
  ingesterDays: numberIn('must be a whole number of days ≥ 1', (n) => Number.isInteger(n) && n >= 1),
  prefix: token,
  stream: token,
  bucket: token,
  json: z.boolean().optional(),
});

/** Creates a file that must not exist yet (a second bootstrap would orphan every user of the first). */
async function writeNew(path: string, content: string, mode: number): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InputError(`${path} exists; bootstrap into an empty directory`);
    }
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

export function register(program: Command): void {
  program
    .command('nats-bootstrap')
    .description(
      'create a NATS operator, account and signing key, the server config and the ingester credentials',
    )
    .requiredOption('--out <dir>', 'directory to write into (created; files in it must not exist)')
    .option('--host <address>', 'address the server listens on', '0.0.0.0')
    .option('--port <port>', 'client port of the server', '4222')
    .option('--store-dir <dir>', "the server's JetStream directory", '/data/jetstream')
    .option('--ingester-days <n>', 'validity of the ingester credentials', '365')
    .option('--prefix <prefix>', 'event subject prefix', DEFAULT_SUBJECT_PREFIX)
    .option('--stream <name>', 'events stream', DEFAULT_STREAM)
    .option('--bucket <name>', 'artifact bucket', 'esweep-artifacts')
    .option('--json', 'print what was written as JSON')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const chain = await createTrustChain();
      const expiresAt = new Date(Date.now() + options.ingesterDays * 86_400_000);
      const ingester = await new AccountSigner(chain.signingKey.seed, chain.account.publicKey).mint(
        'esweep-ingester',
        ingesterPermissions({ prefix: options.prefix, stream: options.stream, bucket: options.bucket }),
        expiresAt,
      );
      const files: Record<string, { content: string; mode: number; holder: string }> = {
        'server.conf': {
          content: serverConfig(chain, {
            host: options.host,
            port: options.port,
            storeDir: options.storeDir,
          }),
          mode: 0o644,
          holder: 'nats-server (-c server.conf)',
        },
        'auth.conf': {
          content: trustConfig(chain),
          mode: 0o644,
          holder: 'nats-server (include it in your own configuration)',
        },
        'operator.jwt': { content: chain.operator.jwt, mode: 0o644, holder: 'public' },
        'account.jwt': { content: chain.account.jwt, mode: 0o644, holder: 'public' },
        'system.jwt': { content: chain.system.jwt, mode: 0o644, holder: 'public' },
        'operator.nk': { content: `${chain.operator.seed}\n`, mode: 0o600, holder: 'offline' },
        'account.nk': { content: `${chain.account.seed}\n`, mode: 0o600, holder: 'offline' },
        'system.nk': { content: `${chain.system.seed}\n`, mode: 0o600, holder: 'offline' },
        'account-signing.nk': {
          content: `${chain.signingKey.seed}\n`,
          mode: 0o600,
          holder: 'the controller (nats.credentials.accountSigningKeyFile)',
        },
        'ingester.creds': { content: ingester.creds, mode: 0o600, holder: 'the ingester (NATS_CREDS)' },
      };
      await mkdir(options.out, { recursive: true });
      for (const name of Object.keys(files)) {
        if (existsSync(join(options.out, name))) {
          throw new InputError(`${join(options.out, name)} exists; bootstrap into an empty directory`);
        }
      }
      for (const [name, file] of Object.entries(files))
        await writeNew(join(options.out, name), file.content, file.mode);
      const summary = {
        out: options.out,
        operator: chain.operator.publicKey,
        account: chain.account.publicKey,
        signingKey: chain.signingKey.publicKey,
        systemAccount: chain.system.publicKey,
        ingesterExpires: expiresAt.toISOString(),
        files: Object.fromEntries(Object.entries(files).map(([name, f]) => [name, f.holder])),
      };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        [
          `wrote ${Object.keys(files).length} files to ${options.out}`,
          `account ${chain.account.publicKey} (put it in nats.credentials.accountPublicKey)`,
          ...Object.entries(files).map(([name, f]) => `  ${name.padEnd(20)} ${f.holder}`),
          `ingester credentials expire ${expiresAt.toISOString()}`,
          '',
        ].join('\n'),
      );
    });
}
