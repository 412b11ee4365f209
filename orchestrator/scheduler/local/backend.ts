// The local backend: each run is a child process (`esweep train --trial FILE`) on this machine.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BAD_INPUT_EXIT_CODE } from '../../../common/errors.ts';
import { ESWEEP_BIN } from '../../project-root.ts';
import type { RunRequest, RunStatus, SchedulerBackend } from '../backend.ts';
import { workerEnvironment } from '../environment.ts';
import { runName } from '../names.ts';
import { PARENT_PID_ENV, processAlive } from './process.ts';

export interface LocalBackendOptions {
  /** The worker command; `--trial FILE` is appended. Default: this package's `esweep train`. */
  command?: string[];
  /** Extra environment for every run (e.g. NATS_URL, DATABASE_URL). */
  env?: Record<string, string>;
  /** Default parallelism when a sweep sets no maxParallel (default: the core count). */
  parallelism?: number;
  /** Where each run's output goes (default: inherited stderr for both streams). */
  output?: 'inherit' | 'ignore';
  /** Grace period between SIGTERM and SIGKILL on cancel (default 5 s). */
  killAfterMs?: number;
  /**
   * Gives each child an IPC channel and hands it here (embedded mode: `bridgeChild` forwards the
   * worker's events to the in-process pipeline).
   */
  onChild?: (child: ChildProcess, request: RunRequest) => void;
  /**
   * Where the trial files and each run's TMPDIR go; emptied on start, so its owner must hold it
   * alone (`esweep run` keeps it under its locked home). Default: a new directory in the system's,
   * named after this process so that a later backend removes it once this process is gone.
   */
  dir?: string;
}

const TEMP_PREFIX = 'esweep-local-';
const TEMP_DIR = new RegExp(`^${TEMP_PREFIX}(\\d+)-`);

/** The temporary directories of backends whose process died without closing them (kill -9). */
function removeAbandonedTempDirs(): void {
  for (const entry of readdirSync(tmpdir())) {
    const pid = Number(TEMP_DIR.exec(entry)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid))
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function runsDirectory(dir: string | undefined): string {
  if (dir === undefined) {
    removeAbandonedTempDirs();
    return mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface LocalRun {
  status: RunStatus;
  child: ChildProcess;
}

export class LocalBackend implements SchedulerBackend {
  readonly name = 'local';
  readonly defaultParallelism: number;
  private readonly running = new Map<string, LocalRun>();
  private readonly finished = new Map<string, RunStatus>();
  private readonly listeners = new Set<() => void>();
  private readonly dir: string;

  constructor(private readonly options: LocalBackendOptions = {}) {
    this.defaultParallelism = options.parallelism ?? availableParallelism();
    this.dir = runsDirectory(options.dir);
  }

  async start(): Promise<void> {}

  async create(request: RunRequest): Promise<'created' | 'exists'> {
    const name = runName(request.sweepName, request.trialKey, request.attempt);
    if (this.running.has(name) || this.finished.has(name)) return 'exists';
    const file = join(this.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(request.spec));
    // The worker's own scratch files stay in here too, so that nothing of a killed run is left
    // in the system's temporary directory.
    const scratch = join(this.dir, `${name}.tmp`);
    mkdirSync(scratch, { recursive: true });
    const [command, ...args] = this.options.command ?? [process.execPath, ESWEEP_BIN, 'train'];
    const child = spawn(command, [...args, '--trial', file], {
      env: {
        ...process.env,
        ...this.options.env,
        ...workerEnvironment(request, name),
        TMPDIR: scratch,
        [PARENT_PID_ENV]: String(process.pid),
      },
      stdio: [
        'ignore',
        this.options.output === 'ignore' ? 'ignore' : process.stderr,
        this.options.output ?? 'inherit',
        ...(this.options.onChild ? (['ipc'] as const) : []),
      ],
    });
    this.options.onChild?.(child, request);
    const status: RunStatus = {
      name,
      sweepId: request.sweepId,
      trialId: request.trialId,
      attempt: request.attempt,
      phase: 'running',
      badInput: false,
    };
    this.running.set(name, { status, child });
    const finish = (update: Partial<RunStatus>) => {
      if (!this.running.delete(name)) return;
      rmSync(file, { force: true });
      rmSync(scratch, { recursive: true, force: true });
      this.finished.set(name, { ...status, ...update });
      this.notify();
    };
    child.on('error', (error) => finish({ phase: 'failed', reason: `cannot start: ${error.message}` }));
    // 'close', not 'exit': only then has every IPC message (the trial's last events) been delivered.
    child.on('close', (code, signal) => {
      if (code === 0) finish({ phase: 'succeeded' });
      else
        finish({
          phase: 'failed',
          badInput: code === BAD_INPUT_EXIT_CODE,
          reason: signal ? `killed by ${signal}` : `exit code ${code}`,
        });
    });
    this.notify();
    return 'created';
  }

  runs(): RunStatus[] {
    return [...[...this.running.values()].map((run) => run.status), ...this.finished.values()];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  async cancel(name: string): Promise<void> {
    const run = this.running.get(name);
    this.finished.delete(name);
    if (!run) return this.notify();
    const exited = new Promise<void>((resolve) => run.child.once('close', () => resolve()));
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), this.options.killAfterMs ?? 5000);
    await exited;
    clearTimeout(timer);
    this.finished.delete(name);
    this.notify();
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((name) => this.cancel(name)));
    this.listeners.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
