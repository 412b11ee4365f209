import { Command, CommanderError } from 'commander';
import { BAD_INPUT_EXIT_CODE, InputError } from '../../common/errors.ts';
import { registerCommands } from './commands/index.ts';

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
    process.stderr.write(`esweep: ${error.message}\n`);
    process.exitCode = BAD_INPUT_EXIT_CODE;
  } else {
    throw error;
  }
}
