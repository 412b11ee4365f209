// The small, typed API through which the orchestrator writes sweeps, trials and attempts. Events
// (worker → ingester) change trials only through orchestrator/ingest; what is here are the decisions
// of the controller: submit, launch an attempt, cancel. Works the same on PostgreSQL and PGlite.
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

export interface TrialInput {
  /** Stable hash of the normalized parameters, unique within the sweep. */
  key: string;
  arch: string;
  dataset: string;
  pruner: string;
  pruningType: PruningType;
  targetSparsity: number;
  targetCompression: number;
  seed: number;
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
        const { count } = await tx.trial.createMany({
          data: trials.map(({ dependsOnKey: _d, ...t }) => ({ ...t, sweepId: sweep.id })),
          skipDuplicates: true,
        });
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

  listSweeps(): Promise<Sweep[]> {
    return this.prisma.sweep.findMany({ orderBy: { createdAt: 'desc' } });
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
    const rows = await this.prisma.trial.groupBy({
      by: ['status'],
      where: { sweepId },
      _count: { _all: true },
    });
    const counts = Object.fromEntries(TRIAL_STATUSES.map((s) => [s, 0])) as StatusCounts;
    for (const row of rows) counts[row.status] = row._count._all;
    return counts;
  }

  /**
   * Starts a new attempt of a trial: attempts+1, status `queued`, an Attempt row (with the job name,
   * which may be derived from the returned number). Refuses a trial that is `running` or `completed`.
   */
  async startAttempt(trialId: string, jobName?: (attempt: number) => string): Promise<Attempt> {
    return this.prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ attempts: number; status: TrialStatus }[]>`
        SELECT attempts, status FROM trial WHERE id = ${trialId} FOR UPDATE`;
      const trial = rows[0];
      if (!trial) throw new Error(`trial ${trialId} does not exist`);
      if (trial.status === 'running' || trial.status === 'completed') {
        throw new Error(`trial ${trialId} is ${trial.status}; not starting another attempt`);
      }
      const number = trial.attempts + 1;
      const name = jobName?.(number) ?? null;
      await tx.trial.update({
        where: { id: trialId },
        data: {
          attempts: number,
          status: 'queued',
          jobName: name,
          error: null,
          retryable: null,
          finishedAt: null,
        },
      });
      return tx.attempt.create({ data: { trialId, number, status: 'queued', jobName: name } });
    });
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
    await this.prisma.$transaction(async (tx) => {
      const trial = await tx.trial.update({
        where: { id: trialId },
        data: {
          status,
          error: detail.error ?? null,
          retryable: detail.retryable ?? null,
          finishedAt: TERMINAL_STATUSES.includes(status) ? new Date() : null,
        },
      });
      if (trial.attempts > 0) {
        await tx.attempt.updateMany({
          where: { trialId, number: trial.attempts },
          data: {
            status,
            error: detail.error ?? undefined,
            finishedAt: TERMINAL_STATUSES.includes(status) ? new Date() : undefined,
          },
        });
      }
    });
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

  /** Deletes a sweep with everything recorded about it (events, curves, layer counts too). */
  async deleteSweep(sweepId: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const ids = (await tx.trial.findMany({ where: { sweepId }, select: { id: true } })).map((t) => t.id);
      await tx.metricPoint.deleteMany({ where: { trialId: { in: ids } } });
      await tx.layerSparsity.deleteMany({ where: { trialId: { in: ids } } });
      await tx.event.deleteMany({ where: { trialId: { in: ids } } });
      await tx.sweep.delete({ where: { id: sweepId } });
    });
  }
}
