// The seam between the controller and where trials run. A backend creates one run per trial
// attempt (idempotently, by a deterministic name), reports the runs it knows and cancels them; the
// controller decides everything else. Kubernetes (Jobs) and local (child processes) implement it.
import type { TrialSpec } from '../../worker/trial/spec.ts';

export interface Resources {
  gpu: number;
  cpu?: string;
  memory?: string;
}

/** One attempt of one trial, as the controller asks a backend to run it. */
export interface RunRequest {
  sweepId: string;
  sweepName: string;
  trialId: string;
  trialKey: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** What the worker runs (`esweep train --trial`). */
  spec: TrialSpec;
  /** The trial whose artifacts (the dense network's weights) this one reads, if any. */
  dependsOnTrialId: string | null;
  resources: Resources;
}

export type RunPhase = 'pending' | 'running' | 'succeeded' | 'failed';

export interface RunStatus {
  /** The deterministic run name (Job name, or the local process's name). */
  name: string;
  sweepId: string;
  trialId: string;
  attempt: number;
  phase: RunPhase;
  /** A failure the worker reported as bad input (exit code 2): retrying cannot help. */
  badInput: boolean;
  /** Why it failed, in a few words (e.g. `exit code 1`, `DeadlineExceeded`). */
  reason?: string;
  /**
   * Waiting for admission by a queue (Kueue: the Job is suspended), first or again after a
   * preemption: neither running nor failed, and its silence is no lost heartbeat.
   */
  suspended?: boolean;
  /** When the run was last admitted again after a suspension (ms since the epoch). */
  resumedAt?: number;
  /**
   * Failed because its pod could not start for longer than the backend's limit (Unschedulable,
   * ImagePullBackOff, CrashLoopBackOff…): the waiting reason. Another attempt would wait the same.
   */
  stuck?: string;
  /**
   * The run vanished (deleted by someone else, or collected by its TTL) at this time (ms since the
   * epoch); `phase` is the last one observed.
   */
  goneAt?: number;
}

export interface SchedulerBackend {
  readonly name: 'kubernetes' | 'local';
  /** How many runs at once when a sweep sets no maxParallel. */
  readonly defaultParallelism: number;
  /** Begins observing; resolves once `runs()` reflects everything that already exists. */
  start(): Promise<void>;
  /** Starts a run unless one of that name exists ('exists'); never creates a duplicate. */
  create(request: RunRequest): Promise<'created' | 'exists'>;
  /** Every run the backend currently knows. */
  runs(): RunStatus[];
  /** `listener` is called after any run changed (level-triggered: re-read `runs()`). */
  onChange(listener: () => void): () => void;
  /** Stops and removes a run; a run that is already gone is fine. */
  cancel(name: string): Promise<void>;
  close(): Promise<void>;
}
