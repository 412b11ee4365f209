import type { Command } from 'commander';
import * as analyze from './analyze.ts';
import * as arch from './arch.ts';
import * as controller from './controller.ts';
import * as db from './db.ts';
import * as ingest from './ingest.ts';
import * as prune from './prune.ts';
import * as quotas from './quotas.ts';
import * as run from './run.ts';
import * as sweep from './sweep.ts';
import * as train from './train.ts';

/** Every sub-command module exports `register(program)`; this is the one list of them. */
export function registerCommands(program: Command): void {
  for (const command of [arch, analyze, quotas, prune, db, ingest, sweep, controller, train, run])
    command.register(program);
}
