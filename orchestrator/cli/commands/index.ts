import type { Command } from 'commander';

/** Every sub-command module exports `register(program)`; this is the one list of them. */
export function registerCommands(_program: Command): void {}
