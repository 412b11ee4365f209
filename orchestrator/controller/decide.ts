// What the controller does about one trial, as a pure function of the database row (desired state)
// and the backend's run (actual state), and about one sweep's snapshot as a whole. The reconcile loop
// applies these decisions. Each decision is a transition the state machine gives the controller
// (store/trial-state.ts; decide.test.ts checks every one).
import { backoffDelay } from '../../common/backoff.ts';
import type { RunStatus } from '../scheduler/backend.ts';
import type { BackoffCutoff, SweepSnapshot, TrialMark } from '../store/store.ts';
import type { TrialStatus } from '../store/trial-state.ts';

export type { BackoffCutoff };

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
  /**
   * A run that vanished before it was seen to finish (deleted, or collected by its TTL while the
   * controller was not watching) is given this long for its worker's last events to reach the
   * database before the attempt counts as lost (default {@link LOST_RUN_GRACE_MS}).
   */
  lostRunGraceMs?: number;
}

/** Default of {@link Policy.lostRunGraceMs}: a few ingest batches, even behind a backlog. */
export const LOST_RUN_GRACE_MS = 60_000;

export type Decision =
  | { kind: 'wait' }
  | { kind: 'complete' }
  /** The current attempt's run is missing although the attempt was recorded: create it (idempotent). */
  | { kind: 'create' }
  /** The attempt failed: back to pending for another attempt (after a backoff). */
  | { kind: 'retry'; error: string; cancel?: string }
  | { kind: 'fail'; error: string; cancel?: string };

/** Backoff before attempt `attempts + 1` (attempts ≥ 1): base · 2^(attempts − 1), capped. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return backoffDelay({ initialMs: baseMs, maxMs }, attempts);
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
  const grace = policy.lostRunGraceMs ?? LOST_RUN_GRACE_MS;
  if (!run) {
    // Queued: recorded but never created (a crash in between) — create it. Running without a run:
    // lost, once its worker has been silent for the grace (its completion may still be on the way).
    if (trial.status === 'queued') return { kind: 'create' };
    const lastSeen = Math.max(
      trial.updatedAt.getTime(),
      (trial.heartbeatAt ?? trial.startedAt)?.getTime() ?? 0,
    );
    if (now - lastSeen < grace) return { kind: 'wait' };
    return failure(trial, policy, 'its run disappeared', false);
  }
  if (run.phase === 'succeeded') return { kind: 'complete' };
  if (run.phase === 'failed') {
    // A pod that could not start (bad image, nothing can schedule it) would wait the same again: the
    // trial fails with that reason, its Job (still there) is deleted, no retry is spent.
    if (run.stuck)
      return { kind: 'fail', error: run.reason ?? `pod stuck in ${run.stuck}`, cancel: run.name };
    return failure(trial, policy, run.reason ?? 'failed', run.badInput);
  }
  if (run.goneAt !== undefined) {
    // Vanished before it was seen to finish: wait for the worker's events, then it is lost.
    if (now - run.goneAt < grace) return { kind: 'wait' };
    return failure(
      trial,
      policy,
      'its Job disappeared before it finished (deleted, or collected by its TTL)',
      false,
    );
  }
  // Suspended by a queue (Kueue has not admitted it, or preempted it): waiting, not silent.
  if (run.suspended) return { kind: 'wait' };
  const heard = trial.heartbeatAt ?? trial.startedAt;
  // After a readmission the attempt starts over: its silence counts from then.
  const lastSign =
    heard && run.resumedAt !== undefined && run.resumedAt > heard.getTime() ? new Date(run.resumedAt) : heard;
  if (trial.status === 'running' && lastSign && now - lastSign.getTime() > policy.heartbeatTimeoutMs) {
    const seconds = Math.round((now - lastSign.getTime()) / 1000);
    return failure(trial, policy, `no heartbeat for ${seconds} s`, false, run.name);
  }
  return { kind: 'wait' };
}

/** A run that is (as far as the backend knows) still there and not finished. */
export const isActive = (run: RunStatus) =>
  run.goneAt === undefined && (run.phase === 'pending' || run.phase === 'running');

/** A decision that changes the trial's status. */
export type Change = Exclude<Decision, { kind: 'wait' } | { kind: 'create' }>;

/** The status a decision moves a trial to (none for `wait` and `create`). */
export function decidedStatus(decision: Decision): TrialStatus | null {
  switch (decision.kind) {
    case 'complete':
      return 'completed';
    case 'retry':
      return 'pending';
    case 'fail':
      return 'failed';
    default:
      return null;
  }
}

/** What one pass decided for a sweep, for the controller to apply. */
export interface SweepDecisions {
  /** Status changes, written in one statement. */
  marks: TrialMark[];
  /** Runs to stop before the marks are written. */
  cancels: string[];
  /** Trials whose recorded attempt has no run (past the grace of a recent create): create it. */
  missing: string[];
  /** Runs that trials still want (any other active run is an orphan). */
  wanted: string[];
  /** Trials with an attempt out after these decisions. */
  inFlight: number;
  /** The decisions that change a trial, for metrics and logs. */
  changed: { key: string; attempt: number; decision: Change }[];
}

export interface SweepContext {
  runs: ReadonlyMap<string, RunStatus>;
  policy: Policy;
  now: number;
  /** The run name of a trial's attempt. */
  runName: (trialKey: string, attempt: number) => string;
  /** Whether a run of this name was created so recently that the backend may not show it yet. */
  recentlyCreated: (runName: string) => boolean;
}

/** Decides every trial of a sweep's snapshot (pure: the controller then acts on the result). */
export function decideSweep(snapshot: SweepSnapshot, context: SweepContext): SweepDecisions {
  const out: SweepDecisions = { marks: [], cancels: [], missing: [], wanted: [], inFlight: 0, changed: [] };
  for (const trial of snapshot.inFlight) {
    const name = context.runName(trial.key, trial.attempts);
    const run = context.runs.get(`${trial.id}/${trial.attempts}`);
    const decision = decide(trial, run, context.policy, context.now);
    if (decision.kind === 'wait' || decision.kind === 'create') {
      out.wanted.push(name);
      out.inFlight++;
      if (decision.kind === 'create' && !context.recentlyCreated(name)) out.missing.push(trial.id);
      continue;
    }
    out.changed.push({ key: trial.key, attempt: trial.attempts, decision });
    if (decision.kind === 'complete') {
      out.marks.push({ trialId: trial.id, status: 'completed' });
      continue;
    }
    if (decision.cancel) out.cancels.push(decision.cancel);
    out.marks.push({
      trialId: trial.id,
      status: decidedStatus(decision)!,
      error: decision.error,
      retryable: decision.kind === 'retry',
    });
  }
  for (const blocked of snapshot.blocked) {
    const error = `its dense trial ${blocked.dependsOn?.key} ${blocked.dependsOn?.status}`;
    out.marks.push({ trialId: blocked.id, status: 'failed', error, retryable: false });
  }
  return out;
}
