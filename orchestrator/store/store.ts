// The storage seam: everything the orchestrator reads from or writes to the results database goes
// through these interfaces (after Optuna's BaseStorage). The controller, the ingester, the CLI and the
// reports each take the part they use; PrismaStore (prisma-store.ts) implements all of them on
// PostgreSQL and on PGlite. Nothing outside orchestrator/store/ imports the Prisma client or writes SQL.

import type { TrialSpec } from '../../worker/trial/spec.ts';
import type { TrialEvent } from '../events/protocol.ts';
import type { DeadLetterReason } from '../events/validation.ts';
import type { SweepFile } from '../sweep/spec.ts';
import type { DatabaseTarget } from './database.ts';
import type { Attempt, PruningType, StoredBudget, Sweep, SweepStatus, Trial } from './records.ts';
import type { TrialStatus } from './trial-state.ts';

export type { Attempt, PruningType, StoredBudget, Sweep, SweepStatus, Trial, TrialStatus };

export interface SweepInput {
  /** Unique: submitting a sweep of an existing name updates it and adds only its new trials. */
  name: string;
  spec: SweepFile;
  backend?: string;
  maxParallel?: number | null;
  retries?: number;
  /**
   * The uid of the Sweep custom resource submitting it. A sweep owned by another object is refused
   * ({@link SweepOwnedError}); an unowned one of the same name is adopted.
   */
  resourceUid?: string;
}

/** A Sweep object tried to expand into a sweep that another object owns (same name, other namespace). */
export class SweepOwnedError extends Error {
  constructor(
    readonly sweepName: string,
    readonly ownerUid: string,
  ) {
    super(`sweep '${sweepName}' belongs to another Sweep object (uid ${ownerUid})`);
  }
}

/** What a trial is: its key and the parameters a sweep varies. */
export interface TrialParameters {
  /** Stable hash of the normalized parameters, unique within the sweep. */
  key: string;
  arch: string;
  dataset: string;
  pruner: string;
  pruningType: PruningType;
  targetSparsity: number;
  targetCompression: number;
  seed: number;
}

export interface TrialInput extends TrialParameters {
  /** The sweep's budget for this trial; `{}` = the reference schedule. */
  budget: StoredBudget;
  /** The document the worker runs. */
  params: TrialSpec;
  /** Key of the trial (same sweep) that must complete first. */
  dependsOnKey?: string | null;
}

export interface SubmitResult {
  sweep: Sweep;
  /** False when a sweep of this name existed. */
  created: boolean;
  /** Trials that were not there before. */
  addedTrials: number;
  totalTrials: number;
}

export type StatusCounts = Record<TrialStatus, number>;

/** A trial whose next attempt to start, if it is still at `attempts` (see {@link ControllerStore.startAttempts}). */
export interface AttemptStart {
  trialId: string;
  attempts: number;
  jobName: string | null;
}

export interface StartedAttempt {
  trialId: string;
  number: number;
}

/** A status the controller decided for a trial (see {@link ControllerStore.markTrials}). */
export interface TrialMark {
  trialId: string;
  status: TrialStatus;
  error?: string | null;
  retryable?: boolean | null;
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

export type ActiveSweep = Pick<
  Sweep,
  'id' | 'name' | 'status' | 'backend' | 'maxParallel' | 'retries' | 'spec'
>;

/** The columns of a trial that the controller's decisions read. */
export type InFlightTrial = Pick<
  Trial,
  | 'id'
  | 'key'
  | 'status'
  | 'attempts'
  | 'retryable'
  | 'error'
  | 'updatedAt'
  | 'startedAt'
  | 'heartbeatAt'
  | 'dependsOnId'
>;

/** What creating a run needs besides the decision columns: the trial document. */
export type LaunchTrial = InFlightTrial & Pick<Trial, 'params'>;

export interface BlockedTrial {
  id: string;
  dependsOn: { key: string; status: TrialStatus } | null;
}

/** The sweep's state as one reconcile pass sees it (one read, then pure decisions). */
export interface SweepSnapshot {
  /** Trials with an attempt out, or with a failure the controller has not decided on yet. */
  inFlight: InFlightTrial[];
  /** Pending trials whose dependency ended without completing. */
  blocked: BlockedTrial[];
}

/** The reads and writes of the controller's reconcile loop. */
export interface ControllerStore {
  /** Sweeps on this backend that are not finished. */
  activeSweeps(backend: string): Promise<ActiveSweep[]>;
  /** What one pass over a sweep decides on (see {@link SweepSnapshot}). */
  sweepSnapshot(sweepId: string): Promise<SweepSnapshot>;
  /** How many of the sweep's failures the controller has not decided on yet. */
  undecidedFailures(sweepId: string): Promise<number>;
  /** In-flight trials by id, with their documents (to create a run that went missing). */
  launchRows(ids: string[]): Promise<LaunchTrial[]>;
  /** Runnable trials that may start now, oldest first: first attempts and retries whose backoff is over. */
  readyTrials(sweepId: string, backoff: BackoffCutoff[], take: number): Promise<LaunchTrial[]>;
  /** Runnable retries still backing off: the earliest last update per attempt count. */
  backingOff(sweepId: string, backoff: BackoffCutoff[]): Promise<{ attempts: number; updatedAt: Date }[]>;
  /**
   * Starts the next attempt of many trials in one statement: for each trial still at `attempts` (so
   * a concurrent start or an event that moved it on wins) that the `start` transition allows:
   * attempts+1, status `queued`, the job name, and a `queued` Attempt row. Returns the ones started.
   */
  startAttempts(starts: AttemptStart[]): Promise<StartedAttempt[]>;
  /**
   * Sets trials' statuses by decision of the controller (a lost pod marked failed, a retry put back to
   * pending). Unlike events, this may move a status backwards. Also updates the current attempts.
   */
  markTrials(marks: TrialMark[]): Promise<void>;
  setSweepStatus(sweepId: string, status: SweepStatus): Promise<void>;
  /** Trial counts by status of several sweeps in one query, by sweep id. */
  statusCountsBySweep(sweepIds: string[]): Promise<Map<string, StatusCounts>>;
}

export interface RejectedEvent {
  event: TrialEvent;
  reason: Extract<DeadLetterReason, 'unknown-trial' | 'stale-attempt' | 'conflict'>;
  detail: string;
}

export interface BatchOutcome {
  /** Events new to the database. */
  inserted: number;
  /** Events already there (redelivered or published twice). */
  duplicates: number;
  points: number;
  /** Events the database refuses (unknown trial, attempt never started, conflict): dead letters. */
  rejected: RejectedEvent[];
}

export interface DeadLetterRow {
  source: string;
  subject: string;
  reason: string;
  detail: string;
  data: string;
}

/** What the ingester writes. */
export interface EventStore {
  /**
   * Writes a batch of validated events and the dead letters `deadLetters` names for its outcome, in
   * one transaction. Idempotent: events are keyed on (trial, attempt, seq).
   */
  writeEventBatch(
    events: TrialEvent[],
    deadLetters: (outcome: BatchOutcome) => DeadLetterRow[],
    options?: { timeoutMs?: number },
  ): Promise<BatchOutcome>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
}

/** Where an attempt ran: enough to tell a GPU result from a CPU one. */
export interface RanOn {
  backend: string;
  /** GPU or CPU model; null when the worker did not report it. */
  device: string | null;
  gpu: boolean | null;
}

export interface ResultRow extends TrialParameters {
  trialId: string;
  status: TrialStatus;
  attempts: number;
  error: string | null;
  /** The rest is null until the trial completed. */
  accuracy: number | null;
  bestAccuracy: number | null;
  loss: number | null;
  seconds: number | null;
  directSparsity: number | null;
  effectiveSparsity: number | null;
  directCompression: number | null;
  effectiveCompression: number | null;
  /** Where the current attempt ran (its `started` event); null before it started. */
  ranOn: RanOn | null;
  /**
   * Nothing of the network is left on any input-to-output path (effective compression ∞): the trial
   * was recorded without training, with a constant predictor's accuracy.
   */
  disconnected: boolean;
}

export interface ResultFilter {
  /** Only completed trials (default: all). */
  completedOnly?: boolean;
}

export interface TrialCurves {
  trialId: string;
  attempt: number;
  curves: Record<string, { step: number; value: number }[]>;
}

/** Per-layer counts of a trial's current attempt. */
export interface LayerRow {
  trialId: string;
  idx: number;
  name: string;
  params: number;
  direct: number;
  effective: number;
}

/** The raw material of a progress view (run/progress.ts computes the rest). */
export interface ProgressSnapshot {
  sweep: { id: string; name: string; status: string; createdAt: Date; maxParallel: number | null };
  counts: StatusCounts;
  /** Queued and running trials by key, with their current attempt's progress. */
  inFlight: {
    pruner: string;
    pruningType: string;
    targetCompression: number;
    seed: number;
    attempts: number;
    step: number | null;
    totalSteps: number | null;
    /** Where the current attempt runs, once it started. */
    ranOn: RanOn | null;
    host: string | null;
  }[];
  /** Mean seconds of the completed trials, null before the first. */
  meanSeconds: number | null;
}

/** What the CLI, the query layer and the reports read. */
export interface ResultStore {
  /** Every trial of a sweep with its result, ordered by arch, pruner, type, target compression, seed. */
  sweepResults(sweepId: string, filter?: ResultFilter): Promise<ResultRow[]>;
  /** The training curves of a trial's attempt (default: its current one), sorted by step. */
  trialCurves(trialId: string, options?: { attempt?: number; names?: string[] }): Promise<TrialCurves | null>;
  /** The layer counts of every trial's current attempt. */
  currentLayers(sweepId: string): Promise<LayerRow[]>;
  progressSnapshot(sweepId: string): Promise<ProgressSnapshot>;
}

/** What a person does to sweeps through the CLI, and what tests inspect. */
export interface SweepStore {
  /**
   * Creates the sweep, or updates the one of the same name, and inserts the trials it lacks (by key).
   * Idempotent: submitting the same sweep twice changes nothing. One transaction.
   */
  submitSweep(input: SweepInput, trials: TrialInput[]): Promise<SubmitResult>;
  /** A sweep by id or by name. */
  findSweep(idOrName: string): Promise<Sweep | null>;
  getTrial(trialId: string): Promise<Trial | null>;
  listTrials(sweepId: string, filter?: { status?: TrialStatus | TrialStatus[] }): Promise<Trial[]>;
  listAttempts(trialId: string): Promise<Attempt[]>;
  statusCounts(sweepId: string): Promise<StatusCounts>;
  /** Starts a new attempt of one trial (see {@link ControllerStore.startAttempts}); the job name may use its number. */
  startAttempt(trialId: string, jobName?: (attempt: number) => string): Promise<Attempt>;
  markTrial(
    trialId: string,
    status: TrialStatus,
    detail?: { error?: string | null; retryable?: boolean | null },
  ): Promise<void>;
  /** Cancels every trial of the sweep that has not finished, and the sweep. Returns how many. */
  cancelSweep(sweepId: string): Promise<number>;
  /** The Sweep object `resourceUid` gives the sweep up (it was deleted): another object may adopt it. */
  releaseSweep(sweepId: string, resourceUid: string): Promise<void>;
  /** Cancelled trials back to pending (a re-created Sweep object resumes its sweep); returns how many. */
  resumeCancelledTrials(sweepId: string): Promise<number>;
  /** Failed trials back to pending (each gets a new attempt); returns how many. */
  retryFailedTrials(sweepId: string): Promise<number>;
  /** A finished sweep that has pending trials again (new trials, retries) becomes pending. */
  reopenIfPending(sweepId: string): Promise<boolean>;
  /**
   * Trials recorded as queued or running whose process is gone (the local backend's runs die with
   * the `esweep run` that started them) go back to pending; their attempt is marked failed.
   */
  requeueInterrupted(sweepId: string): Promise<number>;
}

export interface Store extends SweepStore, ControllerStore, EventStore, ResultStore {
  readonly target: DatabaseTarget;
  close(): Promise<void>;
}
