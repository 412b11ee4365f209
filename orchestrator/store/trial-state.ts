// The trial state machine, defined once: the states, their rank (the order in which events may move
// a trial), and which transitions each actor may cause. The Prisma enum (prisma/schema.prisma), the
// SQL of the event writer and the admin statements, and the controller's decisions are checked
// against or built from this file (see trial-state.test.ts).

/** Every trial (and attempt) status, in rank order: the declaration order of the `trial_status` enum. */
export const TRIAL_STATUSES = ['pending', 'queued', 'running', 'failed', 'cancelled', 'completed'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** Statuses a trial does not leave by itself: only a decision (retry, new attempt) moves it on. */
export const TERMINAL_STATUSES: readonly TrialStatus[] = ['failed', 'cancelled', 'completed'];

/** Statuses with an attempt out (a run that the controller watches). */
export const IN_FLIGHT_STATUSES: readonly TrialStatus[] = ['queued', 'running'];

/** Who causes a transition. */
export type Cause =
  /** The controller's reconcile decisions (start an attempt, record a run's outcome, retry, fail). */
  | 'controller'
  /** A worker's events of the trial's current attempt, merged by rank. */
  | 'worker'
  /** A person through the CLI (cancel, retry failed trials, requeue what a killed run left). */
  | 'admin';

export const CAUSES: readonly Cause[] = ['controller', 'worker', 'admin'];

/** Where a trial is after its worker's events: the higher of the two ranks (`GREATEST` in SQL). */
export const statusRank = (status: TrialStatus): number => TRIAL_STATUSES.indexOf(status);
export const higherStatus = (a: TrialStatus, b: TrialStatus): TrialStatus =>
  statusRank(b) > statusRank(a) ? b : a;

/** What an event of a given kind says about its attempt: anything but an ending means `running`. */
export const EVENT_STATUSES: readonly TrialStatus[] = ['running', 'failed', 'completed'];
export function eventStatus(kind: string): TrialStatus {
  return kind === 'completed' || kind === 'failed' ? kind : 'running';
}

/** A transition that a controller decision or an admin command makes (worker events follow rank). */
export interface Transition {
  action: string;
  cause: Exclude<Cause, 'worker'>;
  from: readonly TrialStatus[];
  to: TrialStatus;
}

/** The decided transitions by action name. */
export const TRANSITIONS = {
  /** Record the next attempt (its run is created right after). */
  start: {
    action: 'start',
    cause: 'controller',
    from: ['pending', 'queued', 'failed', 'cancelled'],
    to: 'queued',
  },
  /** The run succeeded. */
  complete: { action: 'complete', cause: 'controller', from: ['queued', 'running'], to: 'completed' },
  /** The attempt failed (run failed or lost, no heartbeat, worker failure) and retries are left. */
  retry: { action: 'retry', cause: 'controller', from: ['queued', 'running', 'failed'], to: 'pending' },
  /** The attempt failed for good, or the trial's dependency did (a pending trial that can never run). */
  fail: {
    action: 'fail',
    cause: 'controller',
    from: ['pending', 'queued', 'running', 'failed'],
    to: 'failed',
  },
  cancel: { action: 'cancel', cause: 'admin', from: ['pending', 'queued', 'running'], to: 'cancelled' },
  retryFailed: { action: 'retryFailed', cause: 'admin', from: ['failed'], to: 'pending' },
  /** A cancelled sweep launched again (its Sweep object re-created). */
  resume: { action: 'resume', cause: 'admin', from: ['cancelled'], to: 'pending' },
  /** Queued or running trials whose local process died with the `esweep run` that started it. */
  requeue: { action: 'requeue', cause: 'admin', from: ['queued', 'running'], to: 'pending' },
} as const satisfies Record<string, Transition>;

export type Action = keyof typeof TRANSITIONS;

/** Statuses a transition may start from, as a mutable array (a SQL parameter). */
export const fromStatuses = (action: Action): TrialStatus[] => [...TRANSITIONS[action].from];

/** Statuses a transition may not start from (a SQL parameter for `status <> ALL(…)`). */
export const notFromStatuses = (action: Action): TrialStatus[] =>
  TRIAL_STATUSES.filter((s) => !(TRANSITIONS[action].from as readonly TrialStatus[]).includes(s));

/**
 * Whether `cause` may move a trial from `from` to `to`. Worker events on the current attempt only move
 * a trial up the rank, to a status an event can report; an event of a newer attempt than the trial
 * records starts over from that attempt's status (see event-writes.ts), which is not a transition
 * of the current attempt and is not covered here.
 */
export function mayTransition(from: TrialStatus, to: TrialStatus, cause: Cause): boolean {
  if (cause === 'worker') return EVENT_STATUSES.includes(to) && statusRank(to) > statusRank(from);
  return Object.values(TRANSITIONS).some(
    (t: Transition) => t.cause === cause && t.to === to && t.from.includes(from),
  );
}
