// Leader election without a cluster: a lease in memory (with the API server's optimistic concurrency)
// and a clock that only moves when a test moves it; and a scheduler backend that only records.
import type { RunRequest, RunStatus, SchedulerBackend } from '../scheduler/backend.ts';
import { runName } from '../scheduler/names.ts';
import {
  type Clock,
  type LeaseClient,
  LeaseConflictError,
  type LeaseRecord,
  type LeaseSpec,
} from './leader.ts';

/** One lease shared by several candidates; `failing` makes every request of the named ones fail. */
export class MemoryLease {
  record: LeaseRecord | null = null;
  private version = 0;
  readonly failing = new Set<string>();
  /** Requests still to fail once each, whoever sends them, as an API server's 429/5xx or a spurious 409. */
  readonly faults: ('unavailable' | 'conflict')[] = [];
  /** Writes that succeeded, by candidate (to count renewals). */
  readonly writes: { identity: string; spec: LeaseSpec }[] = [];

  clientFor(identity: string): LeaseClient {
    const check = (signal: AbortSignal) => {
      if (signal.aborted) throw signal.reason;
      if (this.failing.has(identity)) throw new Error(`${identity}: the API server is unreachable`);
      const fault = this.faults.shift();
      if (fault === 'unavailable') throw new Error('503 Service Unavailable');
      if (fault === 'conflict') throw new LeaseConflictError();
    };
    const write = (spec: LeaseSpec): LeaseRecord => {
      this.record = { spec: { ...spec }, resourceVersion: String(++this.version) };
      this.writes.push({ identity, spec: { ...spec } });
      return structuredClone(this.record);
    };
    return {
      get: async (signal) => {
        check(signal);
        return this.record && structuredClone(this.record);
      },
      create: async (spec, signal) => {
        check(signal);
        if (this.record) throw new LeaseConflictError();
        return write(spec);
      },
      update: async (spec, resourceVersion, signal) => {
        check(signal);
        if (this.record?.resourceVersion !== resourceVersion) throw new LeaseConflictError();
        return write(spec);
      },
    };
  }
}

/** A clock at `start` that advances only through `advance`, waking the sleepers due on the way. */
export class FakeClock implements Clock {
  private sleepers: { at: number; wake: () => void }[] = [];

  constructor(private time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = {
        at: this.time + Math.max(0, ms),
        wake: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          signal.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      signal.addEventListener('abort', sleeper.wake, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms` in steps of at most `stepMs`, letting woken work run at each step. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    const end = this.time + ms;
    while (this.time < end) {
      this.time = Math.min(end, this.time + stepMs);
      for (const sleeper of this.sleepers.filter((s) => s.at <= this.time)) sleeper.wake();
      await settle();
    }
  }
}

/** Lets every pending promise callback run (the in-memory lease answers within a few turns). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A backend that only records: each run it creates stays pending. */
export class RecordingBackend implements SchedulerBackend {
  readonly name = 'local';
  readonly defaultParallelism = 1;
  readonly created: RunRequest[] = [];
  readonly cancelled: string[] = [];
  private known: RunStatus[] = [];
  async start(): Promise<void> {}
  async create(request: RunRequest): Promise<'created' | 'exists'> {
    const name = runName(request.sweepName, request.trialKey, request.attempt);
    if (this.known.some((run) => run.name === name)) return 'exists';
    this.created.push(request);
    const { sweepId, trialId, attempt } = request;
    this.known.push({ name, sweepId, trialId, attempt, phase: 'pending', badInput: false });
    return 'created';
  }
  runs(): RunStatus[] {
    return [...this.known];
  }
  onChange(): () => void {
    return () => {};
  }
  async cancel(name: string): Promise<void> {
    this.cancelled.push(name);
    this.known = this.known.filter((run) => run.name !== name);
  }
  /** Sets the phase of a run it created (as the cluster would report it). */
  setPhase(name: string, phase: RunStatus['phase'], reason?: string): void {
    const run = this.known.find((r) => r.name === name);
    if (run) Object.assign(run, { phase, reason });
  }
  async close(): Promise<void> {}
}
