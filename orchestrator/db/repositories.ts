// The small, typed API through which the orchestrator writes sweeps, trials and attempts. Events
// (worker → ingester) change trials only through orchestrator/ingest; what is here are the decisions
// of the controller: submit, launch an attempt, cancel. Works the same on PostgreSQL and PGlite.
import { randomBytes } from 'node:crypto';
import type { Attempt, Prisma, PrismaClient, Sweep, Trial } from './client.ts';
import type { PruningType, SweepStatus, TrialStatus } from './generated/prisma/enums.ts';

export type { Attempt, PruningType, Sweep, SweepStatus, Trial, TrialStatus };

export const TRIAL_STATUSES: readonly TrialStatus[] = [
  'pending',
  'queued',
  'running',
  'failed',
  'cancelled',
  'completed',
];
export const TERMINAL_STATUSES: readonly TrialStatus[] = ['failed', 'cancelled', 'completed'];

export interface SweepInput {
  /** Unique: submitting a sweep of an existing name updates it and adds only its new trials. */
  name: string;
  spec: Prisma.InputJsonValue;
  backend?: string;
  maxParallel?: number | null;
  retries?: number;
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
  budget: Prisma.InputJsonValue;
  params: Prisma.InputJsonValue;
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

/** A trial whose next attempt to start, if it is still at `attempts` (see {@link Repositories.startAttempts}). */
export interface AttemptStart {
  trialId: string;
  attempts: number;
  jobName: string | null;
}

export interface StartedAttempt {
  trialId: string;
  number: number;
}

/** A status the controller decided for a trial (see {@link Repositories.markTrial}). */
export interface TrialMark {
  trialId: string;
  status: TrialStatus;
  error?: string | null;
  retryable?: boolean | null;
}

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

export class Repositories {
  constructor(readonly prisma: PrismaClient) {}

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
        const data = {
          spec: input.spec,
          backend: input.backend ?? 'local',
          maxParallel: input.maxParallel ?? null,
          retries: input.retries ?? 0,
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
        return { sweep, created: !existing, addedTrials: count, totalTrials };
      },
      { timeout: 120_000, maxWait: 30_000 },
    );
  }

  /** A sweep by id or by name. */
  findSweep(idOrName: string): Promise<Sweep | null> {
    return this.prisma.sweep.findFirst({ where: { OR: [{ id: idOrName }, { name: idOrName }] } });
  }

  async setSweepStatus(sweepId: string, status: SweepStatus): Promise<void> {
    const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
    await this.prisma.sweep.update({
      where: { id: sweepId },
      data: { status, finishedAt: terminal ? new Date() : null },
    });
  }

  getTrial(trialId: string): Promise<Trial | null> {
    return this.prisma.trial.findUnique({ where: { id: trialId } });
  }

  listTrials(sweepId: string, filter: { status?: TrialStatus | TrialStatus[] } = {}): Promise<Trial[]> {
    const status = filter.status === undefined ? undefined : { in: [filter.status].flat() };
    return this.prisma.trial.findMany({ where: { sweepId, status }, orderBy: { key: 'asc' } });
  }

  listAttempts(trialId: string): Promise<Attempt[]> {
    return this.prisma.attempt.findMany({ where: { trialId }, orderBy: { number: 'asc' } });
  }

  async statusCounts(sweepId: string): Promise<StatusCounts> {
    return (await this.statusCountsBySweep([sweepId])).get(sweepId)!;
  }

  /** {@link statusCounts} of several sweeps in one query, by sweep id. */
  async statusCountsBySweep(sweepIds: string[]): Promise<Map<string, StatusCounts>> {
    const rows = await this.prisma.trial.groupBy({
      by: ['sweepId', 'status'],
      where: { sweepId: { in: sweepIds } },
      _count: { _all: true },
    });
    const counts = new Map(
      sweepIds.map((id) => [id, Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as StatusCounts]),
    );
    for (const row of rows) counts.get(row.sweepId)![row.status] = row._count._all;
    return counts;
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
    if (trial.status === 'running' || trial.status === 'completed') {
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
        WHERE t.id = v.id AND t.attempts = v.attempts AND t.status NOT IN ('running', 'completed')
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

  /** Cancels every trial of the sweep that has not finished, and the sweep. Returns how many. */
  async cancelSweep(sweepId: string): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.trial.updateMany({
        where: { sweepId, status: { in: ['pending', 'queued', 'running'] } },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
      await tx.attempt.updateMany({
        where: { trial: { sweepId }, status: { in: ['pending', 'queued', 'running'] } },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
      await tx.sweep.update({
        where: { id: sweepId },
        data: { status: 'cancelled', finishedAt: new Date() },
      });
      return count;
    });
  }
}
