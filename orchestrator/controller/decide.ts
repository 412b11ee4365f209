// What the controller does about one trial, as a pure function of the database row (desired state)
// and the backend's run (actual state). The reconcile loop applies these decisions.
import type { TrialStatus } from '../db/repositories.ts';
import type { RunStatus } from '../scheduler/backend.ts';

export interface TrialState {
  status: TrialStatus;
  /** Number of the current attempt. */
  attempts: number;
  retryable: boolean | null;
  error: string | null;
  updatedAt: Date;
  startedAt: Date | null;
  heartbeatAt: Date | null;
}

export interface Policy {
  /** Retries after the first attempt (the sweep's `retries`). */
  retries: number;
  /** A running trial with no heartbeat for this long is replaced. */
  heartbeatTimeoutMs: number;
}

export type Decision =
  | { kind: 'wait' }
  | { kind: 'complete' }
  /** The current attempt's run is missing although the attempt was recorded: create it (idempotent). */
  | { kind: 'create' }
  /** The attempt failed: back to pending for another attempt (after a backoff). */
  | { kind: 'retry'; error: string; cancel?: string }
  | { kind: 'fail'; error: string; cancel?: string };

/** Backoff before attempt `attempts + 1`: base · 2^(attempts − 1), capped. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * A pending trial at `attempts` (with `orMore`, at that many or more) has waited out its backoff if
 * it was last updated (its attempt ended) at or before `updatedBy`.
 */
export interface BackoffCutoff {
  attempts: number;
  orMore: boolean;
  updatedBy: Date;
}

/**
 * The backoff at `now` as one cutoff per attempt count, for the database to tell ready retries from
 * those still backing off (first attempts never wait); the last cutoff covers the counts where the
 * delay stopped growing.
 */
export function backoffCutoffs(now: number, baseMs: number, maxMs: number): BackoffCutoff[] {
  const cutoffs: BackoffCutoff[] = [];
  for (let attempts = 1; ; attempts++) {
    const delay = retryDelayMs(attempts, baseMs, maxMs);
    const orMore = retryDelayMs(attempts + 1, baseMs, maxMs) <= delay;
    cutoffs.push({ attempts, orMore, updatedBy: new Date(now - delay) });
    if (orMore) return cutoffs;
  }
}

function failure(
  trial: TrialState,
  policy: Policy,
  error: string,
  badInput: boolean,
  cancel?: string,
): Decision {
  if (badInput) return { kind: 'fail', error, cancel };
  if (trial.attempts > policy.retries) {
    return { kind: 'fail', error: `${error} (after ${trial.attempts} attempts)`, cancel };
  }
  return { kind: 'retry', error, cancel };
}

/**
 * For a trial the controller is responsible for right now: `queued`/`running` (an attempt is out), or
 * `failed` with `retryable` true (a worker reported a failure that may be retried).
 */
export function decide(trial: TrialState, run: RunStatus | undefined, policy: Policy, now: number): Decision {
  if (trial.status === 'failed') {
    return failure(
      trial,
      policy,
      trial.error ?? 'failed',
      trial.retryable === false,
      run && isActive(run) ? run.name : undefined,
    );
  }
  if (!run) {
    // Queued: recorded but never created (a crash in between) — create it. Running without a run: lost.
    return trial.status === 'queued'
      ? { kind: 'create' }
      : failure(trial, policy, 'its run disappeared', false);
  }
  if (run.phase === 'succeeded') return { kind: 'complete' };
  if (run.phase === 'failed') return failure(trial, policy, run.reason ?? 'failed', run.badInput);
  const lastSign = trial.heartbeatAt ?? trial.startedAt;
  if (trial.status === 'running' && lastSign && now - lastSign.getTime() > policy.heartbeatTimeoutMs) {
    const seconds = Math.round((now - lastSign.getTime()) / 1000);
    return failure(trial, policy, `no heartbeat for ${seconds} s`, false, run.name);
  }
  return { kind: 'wait' };
}

export const isActive = (run: RunStatus) => run.phase === 'pending' || run.phase === 'running';
