/**
 * Command-line flags of the benchmarks, with the CLI's rule for bad input: one line on stderr and
 * exit code 2, never a stack trace. `-h`/`--help` prints the bench's usage and exits 0.
 */
import { parseArgs } from 'node:util';
import { BAD_INPUT_EXIT_CODE, InputError } from '../common/errors.ts';

/** Runs `read` (usually `parseArgs` plus checks); bad flags end the process with exit code 2. */
export function readFlags<T>(bench: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const parseError = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (!(error instanceof InputError) && !parseError) throw error;
    process.stderr.write(`bench:${bench}: ${(error as Error).message}\n`);
    process.exit(BAD_INPUT_EXIT_CODE);
  }
}

/**
 * One flag of a benchmark: its `parseArgs` type and default, and for `--help` what it does in a few
 * words (`about`) and, for a string flag, the name of its value (`value`, default `VALUE`).
 */
export type Flag =
  | { type: 'string'; default?: string; value?: string; about: string }
  | { type: 'boolean'; default?: boolean; about: string };

/** What a bench is told about its flags: strings and booleans, `undefined` where unset with no default. */
export type FlagValues<F extends Record<string, Flag>> = {
  [K in keyof F]: F[K] extends { type: 'boolean' }
    ? F[K] extends { default: boolean }
      ? boolean
      : boolean | undefined
    : F[K] extends { default: string }
      ? string
      : string | undefined;
};

/** What `--help` prints about a bench. */
export interface BenchUsage<F extends Record<string, Flag>> {
  /** The npm script's suffix: `bench:NAME`. */
  name: string;
  /** What it measures, its baseline and its target: a line or two. */
  about: string;
  flags: F;
}

const HELP = { type: 'boolean', short: 'h' } as const;

/**
 * Parses `args` (default: the process's own) as `usage.flags`. Bad flags end the process with exit
 * code 2 (as `readFlags`); `-h`/`--help` prints `usageText(usage)` to stdout and exits 0, before the
 * bench does anything else. Checks of the values (`wholeNumber`) are the caller's, in `readFlags`.
 */
export function benchFlags<const F extends Record<string, Flag>>(
  usage: BenchUsage<F>,
  args: readonly string[] = process.argv.slice(2),
): FlagValues<F> {
  if ('help' in usage.flags) throw new Error(`bench:${usage.name} declares --help itself`);
  const options = Object.fromEntries(
    Object.entries(usage.flags).map(([flag, spec]) => [
      flag,
      spec.default === undefined ? { type: spec.type } : { type: spec.type, default: spec.default },
    ]),
  );
  const { values } = readFlags(usage.name, () => parseArgs({ args, options: { ...options, help: HELP } }));
  if (values.help) {
    process.stdout.write(usageText(usage));
    process.exit(0);
  }
  const { help: _, ...flags } = values;
  return flags as FlagValues<F>;
}

/** The `--help` text: how to run the bench, what it measures, and each flag with its default. */
export function usageText<F extends Record<string, Flag>>(usage: BenchUsage<F>): string {
  const rows: [string, string][] = Object.entries(usage.flags).map(([flag, spec]) => [
    spec.type === 'string' ? `--${flag} ${spec.value ?? 'VALUE'}` : `--${flag}`,
    spec.default === undefined ? spec.about : `${spec.about} (default: ${spec.default})`,
  ]);
  rows.push(['-h, --help', 'print this and exit']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: npm run bench:${usage.name} [-- FLAGS]`,
    '',
    usage.about.trim(),
    '',
    'flags:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    '',
  ].join('\n');
}

/** A flag's value as a whole number ≥ `min`. */
export function wholeNumber(flag: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`--${flag} must be a whole number ≥ ${min}, got '${text}'`);
  }
  return value;
}
