/**
 * Command-line flags of the benchmarks, with the CLI's rule for bad input: one line on stderr and
 * exit code 2, never a stack trace.
 */
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

/** A flag's value as a whole number ≥ `min`. */
export function wholeNumber(flag: string, text: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`--${flag} must be a whole number ≥ ${min}, got '${text}'`);
  }
  return value;
}
