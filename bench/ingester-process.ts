// `esweep ingest` in a child process of its own, as production runs it, so that its memory is measured
// apart from the bench's publishers, NATS clients and earlier scenarios: peak RSS from the kernel
// (VmHWM), what it holds from its /metrics, its totals from the line it logs when stopped.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import type { IngesterStats } from '../orchestrator/ingest/stats.ts';
import { heapLimitOptions, INGESTER_HEAP_MB } from '../orchestrator/node-heap.ts';
import { ESWEEP_BIN } from '../orchestrator/project-root.ts';
import { waitFor } from '../test/support/wait.ts';

export interface IngesterProcessOptions {
  databaseUrl: string;
  natsUrl: string;
  stream: string;
  prefix: string;
  durable: string;
  ackWaitMs: number;
  /** Further `esweep ingest` options. */
  args?: string[];
}

const MB = 1024 * 1024;

/** Kilobytes of a `/proc/<pid>/status` line (e.g. `VmHWM`), in bytes. */
function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  const kb = Number(/(\d+)\s*kB/.exec(line ?? '')?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no ${field} in /proc/${pid}/status`);
  return kb * 1024;
}

const stoppedLine = z.object({ msg: z.literal('stopped'), messages: z.number(), deadLetters: z.number() });

export class IngesterProcess {
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<unknown[]>;
  private metricsPort: number | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly bucket: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk;
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk;
    });
    this.exited = once(child, 'exit');
  }

  /**
   * Builds the CLI bundle first if the sources changed (so the measured process loads what a
   * production image runs, not the TypeScript compiler), then starts `esweep ingest` and waits until
   * it ingests. It needs no database to start: Prisma connects on the first write.
   */
  static async start(options: IngesterProcessOptions): Promise<IngesterProcess> {
    await promisify(execFile)(process.execPath, [ESWEEP_BIN, '--help']);
    const bucket = `b-${options.prefix}`;
    const child = spawn(
      process.execPath,
      [
        ESWEEP_BIN,
        'ingest',
        ...['--database', options.databaseUrl, '--nats', options.natsUrl],
        ...['--stream', options.stream, '--prefix', options.prefix, '--durable', options.durable],
        ...['--ack-wait', String(options.ackWaitMs), '--artifact-bucket', bucket],
        ...['--stream-max-mb', '256', '--dlq-max-mb', '16', '--metrics-port', '0'],
        ...(options.args ?? []),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: heapLimitOptions(INGESTER_HEAP_MB) },
      },
    );
    const ingester = new IngesterProcess(child, bucket);
    await waitFor(
      'esweep ingest to start',
      () => {
        if (child.exitCode !== null) throw new Error(`esweep ingest exited: ${ingester.stderr}`);
        return ingester.stdout.includes('"ingesting"');
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    const serving = ingester.stdout.split('\n').find((l) => l.includes('/healthz'));
    ingester.metricsPort = z.object({ port: z.number() }).parse(JSON.parse(serving!)).port;
    return ingester;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The process's resident memory now, and its peak so far (kernel high-water mark), in MB. */
  memoryMb(): { rss: number; peak: number } {
    return {
      rss: procStatusBytes(this.pid, 'VmRSS') / MB,
      peak: procStatusBytes(this.pid, 'VmHWM') / MB,
    };
  }

  /** A gauge or counter of its /metrics. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return Number(line?.split(' ')[1] ?? Number.NaN);
  }

  /** SIGTERM, then its totals as it logs them when stopped; its artifact bucket is removed. */
  async stop(nc: NatsConnection): Promise<Pick<IngesterStats, 'messages' | 'deadLetters'>> {
    this.child.kill('SIGTERM');
    const [code] = await this.exited;
    await this.removeBucket(nc);
    if (code !== 0) throw new Error(`esweep ingest exited with ${code}: ${this.stderr}`);
    const line = this.stdout.split('\n').find((l) => l.includes('"stopped"'));
    return stoppedLine.parse(JSON.parse(line ?? '{}'));
  }

  /** Ends it at once (when the bench fails half-way). */
  async kill(nc: NatsConnection): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.removeBucket(nc);
  }

  private async removeBucket(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`OBJ_${this.bucket}`).catch(() => {});
  }
}
