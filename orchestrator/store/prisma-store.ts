// The Store on Prisma, for PostgreSQL and PGlite alike: the controller's writes (submit, launch an
// attempt, mark), the admin commands (cancel, retry, requeue), and the reads and event writes of the
// modules beside it. Events (worker → ingester) change trials only through event-writes.ts.
import { randomBytes } from 'node:crypto';
import type { TrialEvent } from '../events/protocol.ts';
import * as controllerReads from './controller-reads.ts';
import type { Database } from './database.ts';
import { writeDeadLetters, writeEvents } from './event-writes.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import { type Attempt, type SweepStatus, sweepRecord, trialRecord } from './records.ts';
import * as resultReads from './result-reads.ts';
import type {
  AttemptStart,
  BackoffCutoff,
  BatchOutcome,
  DeadLetterRow,
  ResultFilter,
  StartedAttempt,
  StatusCounts,
  Store,
  SubmitResult,
  Sweep,
  SweepInput,
  Trial,
  TrialInput,
  TrialMark,
} from './store.ts';
import { SweepOwnedError } from './store.ts';
import {
  fromStatuses,
  notFromStatuses,
  TERMINAL_STATUSES,
  TRANSITIONS,
  type TrialStatus,
} from './trial-state.ts';

let idCounter = 0;

/**
 * A collision-resistant id shaped like Prisma's cuid() (25 lowercase characters, a letter first), for
 * rows inserted in bulk with raw SQL: time, a per-process counter and 64 random bits.
 */
function newId(): string {
  idCounter = (idCounter + 1) % 36 ** 4;
  const random = BigInt(`0x${randomBytes(8).toString('hex')}`)
    .toString(36)
    .padStart(13, '0');
  return `c${Date.now().toString(36).padStart(8, '0')}${idCounter.toString(36).padStart(4, '0')}${random.slice(-12)}`;
}

/** Opens the Store over an open database (see database.ts); closing the store closes the database. */
export function storeOf(database: Database): Store {
  return new PrismaStore(database);
}

class PrismaStore implements Store {
  constructor(private readonly database: Database) {}

  /** The Prisma client, created at the first write or Prisma read (the plain reads do without it). */
  private get prisma(): PrismaClient {
    return this.database.prisma;
  }

  get target() {
    return this.database.target;
  }

  close(): Promise<void> {
    return this.database.close();
  }

  /**
   * Creates the sweep, or updates the one of the same name, and inserts the trials it lacks (by key).
   * Idempotent: submitting the same sweep twice changes nothing. One transaction.
   */
  async submitSweep(input: SweepInput, trials: TrialInput[]): Promise<SubmitResult> {
    const keys = new Set<string>();
    for (const t of trials) {
      if (keys.has(t.key)) throw new Error(`duplicate trial key ${t.key} in sweep ${input.name}`);
      keys.add(t.key);
    }
    for (const t of trials) {
      if (t.dependsOnKey && !keys.has(t.dependsOnKey)) {
        throw new Error(`trial ${t.key} depends on ${t.dependsOnKey}, which is not in sweep ${input.name}`);
      }
    }
    return this.prisma.$transaction(
      async (tx) => {
        const existing = await tx.sweep.findUnique({ where: { name: input.name } });
        if (existing?.resourceUid && input.resourceUid && existing.resourceUid !== input.resourceUid)
          throw new SweepOwnedError(input.name, existing.resourceUid);
        const data = {
          spec: input.spec,
          backend: input.backend ?? 'local',
          maxParallel: input.maxParallel ?? null,
          retries: input.retries ?? 0,
          ...(input.resourceUid ? { resourceUid: input.resourceUid } : {}),
        };
        const sweep = existing
          ? await tx.sweep.update({ where: { id: existing.id }, data })
          : await tx.sweep.create({ data: { name: input.name, ...data } });
        // One INSERT … SELECT FROM unnest(arrays): createMany binds every value separately (~10× slower
        // and hundreds of MB for a paper-scale sweep). Ids are made here since the client would make them.
        const count = await tx.$executeRaw`
          INSERT INTO trial (id, sweep_id, key, arch, dataset, pruner, pruning_type, target_sparsity,
            target_compression, seed, budget, params)
          SELECT v.id, ${sweep.id}, v.key, v.arch, v.dataset, v.pruner, v.pruning_type, v.target_sparsity,
            v.target_compression, v.seed, v.budget, v.params
          FROM unnest(
            ${trials.map(() => newId())}::text[], ${trials.map((t) => t.key)}::text[],
            ${trials.map((t) => t.arch)}::text[], ${trials.map((t) => t.dataset)}::text[],
            ${trials.map((t) => t.pruner)}::text[], ${trials.map((t) => t.pruningType)}::text[]::pruning_type[],
            ${trials.map((t) => String(t.targetSparsity))}::float8[],
            ${trials.map((t) => String(t.targetCompression))}::float8[], ${trials.map((t) => t.seed)}::int[],
            ${trials.map((t) => JSON.stringify(t.budget))}::jsonb[], ${trials.map((t) => JSON.stringify(t.params))}::jsonb[])
            AS v(id, key, arch, dataset, pruner, pruning_type, target_sparsity, target_compression, seed, budget, params)
          ON CONFLICT (sweep_id, key) DO NOTHING`;
        const deps = trials.filter((t) => t.dependsOnKey);
        if (deps.length > 0) {
          await tx.$executeRaw`
            UPDATE trial AS t SET depends_on_id = d.id
            FROM unnest(${deps.map((t) => t.key)}::text[], ${deps.map((t) => t.dependsOnKey!)}::text[]) AS v(key, dep)
            JOIN trial d ON d.sweep_id = ${sweep.id} AND d.key = v.dep
            WHERE t.sweep_id = ${sweep.id} AND t.key = v.key AND t.depends_on_id IS DISTINCT FROM d.id`;
        }
        const totalTrials = await tx.trial.count({ where: { sweepId: sweep.id } });
        return { sweep: sweepRecord(sweep), created: !existing, addedTrials: count, totalTrials };
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  }

  /** A sweep by id or by name. */
  findSweep(idOrName: string): Promise<Sweep | null> {
    return resultReads.findSweep(this.database.query, idOrName);
  }

  async setSweepStatus(sweepId: string, status: SweepStatus): Promise<void> {
    const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
    await this.prisma.sweep.update({
      where: { id: sweepId },
      data: { status, finishedAt: terminal ? new Date() : null },
    });
  }

  async getTrial(trialId: string): Promise<Trial | null> {
    const row = await this.prisma.trial.findUnique({ where: { id: trialId } });
    return row && trialRecord(row);
  }

  async listTrials(sweepId: string, filter: { status?: TrialStatus | TrialStatus[] } = {}): Promise<Trial[]> {
    const statuses = filter.status === undefined ? undefined : [filter.status].flat();
    return resultReads.listTrials(this.database.query, sweepId, statuses);
  }

  listAttempts(trialId: string): Promise<Attempt[]> {
    return this.prisma.attempt.findMany({ where: { trialId }, orderBy: { number: 'asc' } });
  }

  async statusCounts(sweepId: string): Promise<StatusCounts> {
    return (await this.statusCountsBySweep([sweepId])).get(sweepId)!;
  }

  /** {@link statusCounts} of several sweeps in one query, by sweep id. */
  statusCountsBySweep(sweepIds: string[]): Promise<Map<string, StatusCounts>> {
    return resultReads.statusCountsBySweep(this.database.query, sweepIds);
  }

  /**
   * Starts a new attempt of a trial: attempts+1, status `queued`, an Attempt row (with the job name,
   * which may be derived from the returned number). Refuses a trial that is `running` or `completed`.
   */
  async startAttempt(trialId: string, jobName?: (attempt: number) => string): Promise<Attempt> {
    const trial = await this.prisma.trial.findUnique({
      where: { id: trialId },
      select: { attempts: true, status: true },
    });
    if (!trial) throw new Error(`trial ${trialId} does not exist`);
    if (!mayStart(trial.status)) {
      throw new Error(`trial ${trialId} is ${trial.status}; not starting another attempt`);
    }
    const number = trial.attempts + 1;
    const [started] = await this.startAttempts([
      { trialId, attempts: trial.attempts, jobName: jobName?.(number) ?? null },
    ]);
    if (!started) throw new Error(`trial ${trialId} changed while starting attempt ${number}; try again`);
    return this.prisma.attempt.findUniqueOrThrow({ where: { trialId_number: { trialId, number } } });
  }

  /**
   * Starts the next attempt of many trials in one statement: for each trial still at `attempts` (so
   * a concurrent start or an event that moved it on wins) and neither `running` nor `completed`:
   * attempts+1, status `queued`, the job name, and a `queued` Attempt row. Returns the ones started.
   */
  async startAttempts(starts: AttemptStart[]): Promise<StartedAttempt[]> {
    if (starts.length === 0) return [];
    const rows = await this.prisma.$queryRaw<{ trial_id: string; number: number }[]>`
      WITH started AS (
        UPDATE trial AS t SET attempts = t.attempts + 1, status = 'queued', job_name = v.job_name,
          error = NULL, retryable = NULL, finished_at = NULL, updated_at = now()
        FROM unnest(${starts.map((s) => s.trialId)}::text[], ${starts.map((s) => s.attempts)}::int[],
          ${starts.map((s) => s.jobName)}::text[]) AS v(id, attempts, job_name)
        WHERE t.id = v.id AND t.attempts = v.attempts
          AND t.status = ANY(${fromStatuses('start')}::text[]::trial_status[])
        RETURNING t.id, t.attempts, t.job_name)
      INSERT INTO attempt (trial_id, number, status, job_name)
      SELECT id, attempts, 'queued', job_name FROM started
      ON CONFLICT (trial_id, number) DO UPDATE SET status = 'queued', job_name = EXCLUDED.job_name
      RETURNING trial_id, number`;
    return rows.map((r) => ({ trialId: r.trial_id, number: Number(r.number) }));
  }

  /**
   * Sets a trial's status by decision of the controller (cancel, a lost pod marked failed, a retry put
   * back to pending). Unlike events, this may move a status backwards. Also updates the current attempt.
   */
  async markTrial(
    trialId: string,
    status: TrialStatus,
    detail: { error?: string | null; retryable?: boolean | null } = {},
  ): Promise<void> {
    await this.markTrials([{ trialId, status, ...detail }]);
  }

  /** {@link markTrial} for many trials in one statement. */
  async markTrials(marks: TrialMark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.prisma.$executeRaw`
      WITH marked AS (
        UPDATE trial AS t SET status = v.status, error = v.error, retryable = v.retryable, updated_at = now(),
          finished_at = CASE WHEN v.status = ANY(${[...TERMINAL_STATUSES]}::text[]::trial_status[]) THEN now() END
        FROM unnest(${marks.map((m) => m.trialId)}::text[], ${marks.map((m) => m.status)}::text[]::trial_status[],
          ${marks.map((m) => m.error ?? null)}::text[], ${marks.map((m) => m.retryable ?? null)}::bool[])
          AS v(id, status, error, retryable)
        WHERE t.id = v.id
        RETURNING t.id, t.attempts, t.status, t.error, t.finished_at)
      UPDATE attempt AS a SET status = m.status, error = COALESCE(m.error, a.error),
        finished_at = COALESCE(m.finished_at, a.finished_at)
      FROM marked AS m WHERE a.trial_id = m.id AND a.number = m.attempts`;
  }

  async cancelSweep(sweepId: string): Promise<number> {
    const { from, to } = TRANSITIONS.cancel;
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.trial.updateMany({
        where: { sweepId, status: { in: [...from] } },
        data: { status: to, finishedAt: new Date() },
      });
      await tx.attempt.updateMany({
        where: { trial: { sweepId }, status: { in: [...from] } },
        data: { status: to, finishedAt: new Date() },
      });
      await tx.sweep.update({
        where: { id: sweepId },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
      return count;
    });
  }

  async releaseSweep(sweepId: string, resourceUid: string): Promise<void> {
    await this.prisma.sweep.updateMany({ where: { id: sweepId, resourceUid }, data: { resourceUid: null } });
  }

  async resumeCancelledTrials(sweepId: string): Promise<number> {
    const { from, to } = TRANSITIONS.resume;
    const { count } = await this.prisma.trial.updateMany({
      where: { sweepId, status: { in: [...from] } },
      data: { status: to, error: null, retryable: null, finishedAt: null },
    });
    await this.reopenIfPending(sweepId);
    return count;
  }

  async reopenIfPending(sweepId: string): Promise<boolean> {
    const pending = await this.prisma.trial.count({ where: { sweepId, status: 'pending' } });
    if (pending === 0) return false;
    const { count } = await this.prisma.sweep.updateMany({
      where: { id: sweepId, status: { in: [...TERMINAL_SWEEP] } },
      data: { status: 'pending', finishedAt: null },
    });
    return count > 0;
  }

  async retryFailedTrials(sweepId: string): Promise<number> {
    const { from, to } = TRANSITIONS.retryFailed;
    const { count } = await this.prisma.trial.updateMany({
      where: { sweepId, status: { in: [...from] } },
      data: { status: to, error: null, retryable: null, finishedAt: null },
    });
    await this.reopenIfPending(sweepId);
    return count;
  }

  async requeueInterrupted(sweepId: string): Promise<number> {
    const { from, to } = TRANSITIONS.requeue;
    return this.prisma.$transaction(async (tx) => {
      const where = { sweepId, status: { in: [...from] } };
      const trials = await tx.trial.findMany({ where, select: { id: true, attempts: true } });
      if (trials.length === 0) return 0;
      await tx.attempt.updateMany({
        where: { OR: trials.map((t) => ({ trialId: t.id, number: t.attempts })) },
        data: { status: 'failed', error: 'interrupted', finishedAt: new Date() },
      });
      await tx.trial.updateMany({ where, data: { status: to, error: null, retryable: null } });
      return trials.length;
    });
  }

  activeSweeps(backend: string) {
    return controllerReads.activeSweeps(this.prisma, backend);
  }

  async sweepSnapshot(sweepId: string) {
    const inFlight = await controllerReads.trialsInFlight(this.prisma, sweepId);
    const blocked = await controllerReads.blockedTrials(this.prisma, sweepId);
    return { inFlight, blocked };
  }

  undecidedFailures(sweepId: string) {
    return controllerReads.undecidedFailures(this.prisma, sweepId);
  }

  launchRows(ids: string[]) {
    return controllerReads.launchRows(this.prisma, ids);
  }

  readyTrials(sweepId: string, backoff: BackoffCutoff[], take: number) {
    return controllerReads.readyTrials(this.prisma, sweepId, backoff, take);
  }

  backingOff(sweepId: string, backoff: BackoffCutoff[]) {
    return controllerReads.backingOff(this.prisma, sweepId, backoff);
  }

  writeEventBatch(
    events: TrialEvent[],
    deadLetters: (outcome: BatchOutcome) => DeadLetterRow[],
    options: { timeoutMs?: number } = {},
  ): Promise<BatchOutcome> {
    return this.prisma.$transaction(
      async (tx) => {
        const outcome = await writeEvents(tx, events);
        await writeDeadLetters(tx, deadLetters(outcome));
        return outcome;
      },
      { timeout: options.timeoutMs ?? 120_000, maxWait: 30_000 },
    );
  }

  async ping(): Promise<void> {
    await this.prisma.$queryRaw`SELECT 1`;
  }

  sweepResults(sweepId: string, filter?: ResultFilter) {
    return resultReads.sweepResults(this.database.query, sweepId, filter);
  }

  trialCurves(trialId: string, options?: { attempt?: number; names?: string[] }) {
    return resultReads.trialCurves(this.prisma, trialId, options);
  }

  currentLayers(sweepId: string) {
    return resultReads.currentLayers(this.prisma, sweepId);
  }

  async progressSnapshot(sweepId: string) {
    return resultReads.progressSnapshot(this.database.query, sweepId, await this.statusCounts(sweepId));
  }
}

const TERMINAL_SWEEP = ['completed', 'failed', 'cancelled'] as const;

const mayStart = (status: TrialStatus) => !notFromStatuses('start').includes(status);
