// The fake cluster as a program anyone can start (a contributor, CI, bench:controller):
//   npm run -s fake-cluster -- [--port P] [--audit FILE] [--faults SPEC] [--instant] [--help]
// Prints the API server's URL as its first stdout line, serves until SIGTERM or SIGINT, then stops
// the simulated workers and exits 0. Bad flags: one line on stderr, exit code 2.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { type FakeKubeOptions, FakeKubeServer } from './server.ts';

const USAGE = `Usage: npm run -s fake-cluster -- [options]

A fake Kubernetes API server with a simulated job controller and kubelet (docs/fake-cluster.md).
Prints its URL on the first stdout line and serves until SIGTERM or SIGINT.

Options:
  --port P        listen on 127.0.0.1:P (default: a free port)
  --audit FILE    append one JSON line per mutating request to FILE:
                  {"time","verb","resource","namespace","name","userAgent","code"}
  --faults SPEC   inject API faults (429, 5xx, 410 Gone on watches, restarts) as SPEC says;
                  the syntax is documented with the fault injector (test/fake-kube/faults.ts)
  --instant       complete every pod at once instead of running its container command
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
  faults: z.string().min(1, 'must not be empty').optional(),
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

/**
 * SEAM for the fault injector: test/fake-kube/faults.ts (parseFaults) is not on this branch. At the
 * merge, parse SPEC with it here, pass its `intercept` in the options and let it schedule
 * `server.restart()`.
 */
function faultOptions(spec: string | undefined): Pick<FakeKubeOptions, 'intercept'> {
  if (spec !== undefined)
    fail('--faults: fault injection is not part of this build (test/fake-kube/faults.ts)');
  return {};
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
const server = new FakeKubeServer({
  mode: options.instant ? 'instant' : 'process',
  audit: options.audit,
  ...faultOptions(options.faults),
});
try {
  process.stdout.write(`${await server.start(options.port ?? 0)}\n`);
} catch (error) {
  fail(`--port: cannot listen on ${options.port}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
}
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
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
