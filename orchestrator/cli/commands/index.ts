import type { Command } from 'commander';

interface CommandModule {
  register(program: Command): void;
}

/**
 * Every sub-command: its one-line summary for `esweep --help`, and its module. Only the invoked
 * command's module is loaded: together they pull in tfjs, Prisma, NATS and the Kubernetes client,
 * which would cost every command seconds of start-up.
 */
const COMMANDS: { name: string; summary: string; load: () => Promise<CommandModule> }[] = [
  { name: 'arch', summary: 'describe an architecture: its prunable layers', load: () => import('./arch.ts') },
  {
    name: 'analyze',
    summary: 'direct and effective sparsity of a mask file',
    load: () => import('./analyze.ts'),
  },
  { name: 'quotas', summary: 'per-layer sparsities of a layerwise quota', load: () => import('./quotas.ts') },
  { name: 'prune', summary: 'prune an architecture and write the masks', load: () => import('./prune.ts') },
  { name: 'train', summary: 'run one trial: prune, train, evaluate', load: () => import('./train.ts') },
  { name: 'sweep', summary: 'submit and manage sweeps', load: () => import('./sweep.ts') },
  { name: 'run', summary: 'run a whole sweep on this machine', load: () => import('./run.ts') },
  {
    name: 'controller',
    summary: 'reconcile sweeps with runs on the backend',
    load: () => import('./controller.ts'),
  },
  {
    name: 'ingest',
    summary: 'consume trial events into the results database',
    load: () => import('./ingest.ts'),
  },
  {
    name: 'doctor',
    summary: 'which tfjs backends work here, and how fast',
    load: () => import('./doctor.ts'),
  },
  {
    name: 'nats-bootstrap',
    summary: 'create the NATS operator, account and signing key (operator mode)',
    load: () => import('./nats-bootstrap.ts'),
  },
  { name: 'db', summary: 'the results database (migrate, status, diff)', load: () => import('./db.ts') },
];

/** Registers the invoked command in full and the others as entries of the command list. */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const invoked = argv.slice(2).find((arg) => !arg.startsWith('-'));
  for (const command of COMMANDS) {
    if (command.name === invoked) (await command.load()).register(program);
    else program.command(command.name).description(command.summary);
  }
}
