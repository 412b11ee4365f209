// One `esweep run` per home: two would open the same embedded database and requeue each other's
// running trials. The lock file names its holder by pid and process start time (a pid alone may be
// reused after a crash); a lock whose holder is gone is stale and taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { processAlive, processStartTicks } from '../scheduler/local/process.ts';

export const LOCK_FILE = 'lock';

const Holder = z.object({
  pid: z.number().int().positive(),
  /** The kernel's start time of the process (clock ticks since boot); null where /proc is missing. */
  startTicks: z.number().nullable(),
  startedAt: z.string(),
});
type Holder = z.infer<typeof Holder>;

function isAlive(holder: Holder): boolean {
  if (!processAlive(holder.pid)) return false;
  return holder.startTicks === null || processStartTicks(holder.pid) === holder.startTicks;
}

function readHolder(file: string): Holder | null {
  try {
    const parsed = Holder.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface HomeLock {
  release(): void;
}

/** Takes the lock of `home` (an existing directory) or throws an InputError naming its holder. */
export function lockHome(home: string): HomeLock {
  const file = join(home, LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: 'wx' });
      return {
        release: () => {
          if (readHolder(file)?.pid === me.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && isAlive(holder)) {
      throw new InputError(
        `${home} is in use by another esweep run (pid ${holder.pid}, started ${holder.startedAt}); wait for it or stop it`,
      );
    }
    // Stale (its process is gone) or unreadable (a holder killed while writing it).
    rmSync(file, { force: true });
  }
  throw new InputError(`cannot take the lock ${file}: other runs keep taking it`);
}
