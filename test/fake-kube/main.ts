// The fake cluster as a program anyone can start (a contributor, CI, bench:controller):
//   npm run -s fake-cluster -- [--port P] [--audit FILE] [--faults SPEC] [--kueue-quota N] [--instant] [--help]
// Prints the API server's URL as its first stdout line, serves until SIGTERM or SIGINT, then stops
// the simulated workers and exits 0. Bad flags: one line on stderr, exit code 2.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { FAULTS_HELP, FaultInjector, faultOptions, parseFaults, scheduleRestarts } from './faults.ts';
import { FakeKueue } from './kueue.ts';
import { FakeKubeServer } from './server.ts';

const USAGE = `Usage: npm run -s fake-cluster -- [options]

A fake Kubernetes API server with a simulated job controller and kubelet (docs/fake-cluster.md).
Prints its URL on the first stdout line and serves until SIGTERM or SIGINT.

Options:
  --port P        listen on 127.0.0.1:P (default: a free port)
  --audit FILE    append one JSON line per mutating request to FILE:
                  {"time","verb","resource","namespace","name","userAgent","code"}
  --instant       complete every pod at once instead of running its container command
  --kueue-quota N admit Jobs of a Kueue queue (suspended, queue-name label) N at a time
  ${FAULTS_HELP}
  --help          print this help
`;

const Flags = z.object({
  port: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((port) => port <= 65535, 'must be at most 65535')
    .optional(),
  audit: z.string().min(1, 'must name a file').optional(),
  faults: z
    .string()
    .min(1, 'must not be empty')
    .transform((spec, context) => {
      try {
        return parseFaults(spec);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  'kueue-quota': z
    .string()
    .regex(/^[1-9]\d*$/, 'must be a whole number > 0')
    .transform(Number)
    .optional(),
  instant: z.boolean().optional(),
  help: z.boolean().optional(),
});

/** One line on stderr and exit code 2, as for every user mistake. */
function fail(message: string): never {
  process.stderr.write(`fake-cluster: ${message}\n`);
  process.exit(2);
}

function flags(): z.infer<typeof Flags> {
  let values: unknown;
  try {
    values = parseArgs({
      options: {
        port: { type: 'string' },
        audit: { type: 'string' },
        faults: { type: 'string' },
        'kueue-quota': { type: 'string' },
        instant: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message.split('\n')[0]} (see --help)`);
  }
  const parsed = Flags.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(`--${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

const options = flags();
if (options.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (options.audit) {
  try {
    appendFileSync(options.audit, '');
  } catch (error) {
    fail(`--audit: cannot write ${options.audit}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
const faults = options.faults ? new FaultInjector(options.faults) : undefined;
const server = new FakeKubeServer({
  mode: options.instant ? 'instant' : 'process',
  audit: options.audit,
  ...(faults ? faultOptions(faults) : {}),
});
const quota = options['kueue-quota'];
const kueue = quota ? new FakeKueue(server.store, quota) : undefined;
try {
  process.stdout.write(`${await server.start(options.port ?? 0)}\n`);
} catch (error) {
  fail(`--port: cannot listen on ${options.port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
}
const stopRestarts = faults ? scheduleRestarts(server, faults.spec) : () => {};
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  stopRestarts();
  kueue?.stop();
  // What was injected, for whoever ran the faults (bench:controller reads it).
  if (faults) process.stderr.write(`${JSON.stringify({ injected: Object.fromEntries(faults.injected) })}\n`);
  server.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`fake-cluster: stopping failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
