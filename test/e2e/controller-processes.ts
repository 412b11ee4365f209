// `esweep controller` processes for the high-availability tests and the takeover measurement: each
// runs the real CLI with its own identity, and its JSON log lines are collected as they come. Like a
// kubelet with restartPolicy Always, a replica that exits on its own (a leader that lost the lead
// exits 1) can be started again under the same identity.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ESWEEP_BIN } from '../../orchestrator/project-root.ts';
import type { KubernetesConfig } from '../../orchestrator/scheduler/kubernetes/config.ts';

export interface LogLine {
  time: string;
  identity: string;
  level?: string;
  msg?: string;
  decision?: string;
  [field: string]: unknown;
}

/**
 * Short leases, so that a takeover takes seconds (the same inequalities as the defaults), with a
 * renew deadline long enough that a leader briefly starved of CPU on a shared machine is not fenced
 * (docs/high-availability.md).
 */
export const TEST_TIMING = { leaseDuration: 8, renewDeadline: 6, retryPeriod: 1 };

export interface ReplicaOptions {
  /** The CLI to run: the bundle (orchestrator/cli/bundle.ts) starts in a fraction of tsx's time. */
  bin?: string;
  clusterFile: string;
  database: string;
  timing?: typeof TEST_TIMING;
  leaseName?: string;
}

export class ControllerReplica {
  readonly lines: LogLine[] = [];
  stderr = '';
  child!: ChildProcess;
  exited!: Promise<number | null>;
  /** Exit codes of earlier runs of this replica (each restart adds one). */
  readonly exits: (number | null)[] = [];
  /** When this test killed it (-9), if it did. */
  killedAt: number | undefined;

  constructor(
    readonly identity: string,
    private readonly options: ReplicaOptions,
  ) {
    this.start();
  }

  /** Index in `lines` of the current run's first line (a restart begins a new run). */
  private runStart = 0;

  start(): void {
    this.runStart = this.lines.length;
    const t = this.options.timing ?? TEST_TIMING;
    const args = [
      this.options.bin ?? ESWEEP_BIN,
      'controller',
      '--backend',
      'kubernetes',
      '--cluster',
      this.options.clusterFile,
      '--database',
      this.options.database,
      '--identity',
      this.identity,
      '--metrics-port',
      '0',
      '--retry-backoff',
      '1',
      '--lease-name',
      this.options.leaseName ?? 'esweep-controller',
      '--lease-duration',
      String(t.leaseDuration),
      '--renew-deadline',
      String(t.renewDeadline),
      '--retry-period',
      String(t.retryPeriod),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr += `${line}\n`;
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exits.push(code);
        resolve(code);
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether it leads now, by its current run's log: a `lead gained` not followed by `lead lost`. */
  get leading(): boolean {
    if (!this.running) return false;
    const last = this.lines
      .slice(this.runStart)
      .findLast((l) => l.decision === 'lead gained' || l.decision === 'lead lost');
    return last?.decision === 'lead gained';
  }

  kill(): void {
    this.killedAt = Date.now();
    this.child.kill('SIGKILL');
  }

  /** SIGTERM, as Kubernetes stops a pod; resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    return this.exited;
  }

  /** Lines at or after `since` (ms since the epoch) matching `match`. */
  after(since: number, match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter((l) => Date.parse(l.time) >= since && match(l));
  }
}

/** Writes the backend settings where `--cluster` reads them (JSON is YAML). */
export async function writeClusterFile(dir: string, config: KubernetesConfig): Promise<string> {
  const file = join(dir, 'cluster.yaml');
  await writeFile(file, JSON.stringify(config));
  return file;
}

/** The acting intervals of every replica ([gained, lost or killed or exited]); they must not overlap. */
export function leadIntervals(replicas: ControllerReplica[], end: number): [string, number, number][] {
  const intervals: [string, number, number][] = [];
  for (const replica of replicas) {
    let since: number | undefined;
    for (const line of replica.lines) {
      const at = Date.parse(line.time);
      if (line.decision === 'lead gained') since = at;
      else if (since !== undefined && (line.decision === 'lead lost' || line.decision === 'lead released')) {
        intervals.push([replica.identity, since, at]);
        since = undefined;
      }
    }
    if (since !== undefined) intervals.push([replica.identity, since, replica.killedAt ?? end]);
  }
  return intervals.sort((a, b) => a[1] - b[1]);
}
