import { Command, CommanderError } from 'commander';
import {
  BAD_INPUT_EXIT_CODE,
  INTERRUPTED_EXIT_CODE,
  InputError,
  SERVICE_UNAVAILABLE_EXIT_CODE,
  ServiceUnavailableError,
} from '../../common/errors.ts';
import { PARENT_PID_ENV, watchParent } from '../scheduler/local/process.ts';
import { registerCommands } from './commands/index.ts';

/** Longest message shown: one that lists what a file holds (20,000 array names) stays readable. */
const MAX_MESSAGE = 1000;

/** An error's message as one line of bounded length. */
function oneLine(message: string): string {
  const line = message.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_MESSAGE
    ? `${line.slice(0, MAX_MESSAGE)}… (${line.length - MAX_MESSAGE} more characters)`
    : line;
}

// A worker of `esweep run` stops as soon as that run is gone (killed with SIGKILL): nobody would
// record its work, the next run starts the trial again, and its files lie in the run's directory
// that the next run empties. Watching starts before the command's modules load, which takes seconds.
if (process.env[PARENT_PID_ENV]) watchParent(() => process.exit(INTERRUPTED_EXIT_CODE));

const program = new Command('esweep')
  .description('Neural-network pruning experiments at cluster scale, judged by effective sparsity')
  .configureOutput({
    // Commander's usage errors become the same one line as every other input error.
    outputError: (message, write) =>
      write(`esweep: ${message.replace(/^error: /, '').trim()} (see --help)\n`),
  })
  .exitOverride();
await registerCommands(program, process.argv);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // commander already printed the message (or the help text).
    process.exitCode = error.exitCode === 0 ? 0 : BAD_INPUT_EXIT_CODE;
  } else if (error instanceof InputError) {
    process.stderr.write(`esweep: ${oneLine(error.message)}\n`);
    process.exitCode = BAD_INPUT_EXIT_CODE;
  } else if (error instanceof ServiceUnavailableError) {
    process.stderr.write(`esweep: ${oneLine(error.message)}\n`);
    process.exitCode = SERVICE_UNAVAILABLE_EXIT_CODE;
  } else {
    throw error;
  }
}
