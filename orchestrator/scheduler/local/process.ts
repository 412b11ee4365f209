// Facts about local processes that outlive their parent's knowledge of them: whether a pid is still
// a live process, when it started (to tell a reused pid apart), and a child noticing its parent died.
import { readFileSync } from 'node:fs';

/** Whether `pid` names a live process (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/PID/stat, the start time in clock ticks since boot; null without /proc. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** The variable through which the local backend tells a worker its parent's pid. */
export const PARENT_PID_ENV = 'ESWEEP_PARENT_PID';

/**
 * Calls `onOrphaned` once when this process's parent is gone: it has been re-parented (checked
 * every `intervalMs`; the IPC channel's closing would not do, a worker closes it itself when done).
 * `parent` is the pid it was started by ($ESWEEP_PARENT_PID), so that a parent that died before the
 * watch began counts too. Returns a stop function.
 */
export function watchParent(
  onOrphaned: () => void,
  parent = Number(process.env[PARENT_PID_ENV]) || process.ppid,
  intervalMs = 1000,
): () => void {
  const check = () => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  };
  const timer = setInterval(check, intervalMs).unref();
  check();
  return () => clearInterval(timer);
}
