// The reads the reconcile loop needs, narrowed to the columns it uses. Every query is bounded by the
// sweep's in-flight trials, a `take`, or the number of attempt counts.
import type { Prisma, PrismaClient } from './generated/prisma/client.ts';
import { sweepRecord, trialDocument } from './records.ts';
import type { ActiveSweep, BackoffCutoff, BlockedTrial, InFlightTrial, LaunchTrial } from './store.ts';
import { IN_FLIGHT_STATUSES } from './trial-state.ts';

const sweepColumns = {
  id: true,
  name: true,
  status: true,
  backend: true,
  maxParallel: true,
  retries: true,
  spec: true,
} as const;

const trialColumns = {
  id: true,
  key: true,
  status: true,
  attempts: true,
  retryable: true,
  error: true,
  updatedAt: true,
  startedAt: true,
  heartbeatAt: true,
  dependsOnId: true,
} as const;

/** What creating a run needs besides the row: the trial document. */
const launchColumns = { ...trialColumns, params: true } as const;

/** Sweeps on this backend that are not finished. */
export async function activeSweeps(prisma: PrismaClient, backend: string): Promise<ActiveSweep[]> {
  const rows = await prisma.sweep.findMany({
    where: { backend, status: { in: ['pending', 'running'] } },
    select: sweepColumns,
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(sweepRecord);
}

const launchRecord = <R extends { id: string; params: unknown }>(row: R): Omit<R, 'params'> & LaunchTrial =>
  ({ ...row, params: trialDocument(row.params, row.id) }) as Omit<R, 'params'> & LaunchTrial;

/** A failure the controller has not decided on yet (it may still be retried). */
const undecidedFailure = { status: 'failed', retryable: true } satisfies Prisma.TrialWhereInput;

/**
 * Trials with an attempt out, or with a failure the controller has not decided on yet (read every
 * pass, so without the documents).
 */
export function trialsInFlight(prisma: PrismaClient, sweepId: string): Promise<InFlightTrial[]> {
  return prisma.trial.findMany({
    where: { sweepId, OR: [{ status: { in: [...IN_FLIGHT_STATUSES] } }, undecidedFailure] },
    select: trialColumns,
  });
}

/** How many of the sweep's failures the controller has not decided on yet. */
export function undecidedFailures(prisma: PrismaClient, sweepId: string): Promise<number> {
  return prisma.trial.count({ where: { sweepId, ...undecidedFailure } });
}

/** In-flight trials by id, with their documents (to create a run that went missing). */
export async function launchRows(prisma: PrismaClient, ids: string[]): Promise<LaunchTrial[]> {
  const rows = await prisma.trial.findMany({ where: { id: { in: ids } }, select: launchColumns });
  return rows.map(launchRecord);
}

/** Pending trials whose dependency (if any) completed. */
const runnable = (sweepId: string) =>
  ({
    sweepId,
    status: 'pending',
    OR: [{ dependsOnId: null }, { dependsOn: { status: 'completed' } }],
  }) satisfies Prisma.TrialWhereInput;

/** Retries at each cutoff's attempt count(s), last updated in `updatedAt`'s range of that cutoff. */
const retriesUpdated = (
  backoff: BackoffCutoff[],
  updatedAt: (cutoff: BackoffCutoff) => Prisma.DateTimeFilter,
) =>
  backoff.map((cutoff) => ({
    attempts: cutoff.orMore ? { gte: cutoff.attempts } : cutoff.attempts,
    updatedAt: updatedAt(cutoff),
  }));

/**
 * Runnable trials that may start now, oldest first: first attempts, and retries whose backoff is over.
 * The backoff is decided here, in the query, so retries still waiting never take the places of ready
 * trials behind them.
 */
export async function readyTrials(
  prisma: PrismaClient,
  sweepId: string,
  backoff: BackoffCutoff[],
  take: number,
): Promise<LaunchTrial[]> {
  const rows = await prisma.trial.findMany({
    where: {
      AND: [
        runnable(sweepId),
        { OR: [{ attempts: 0 }, ...retriesUpdated(backoff, (c) => ({ lte: c.updatedBy }))] },
      ],
    },
    select: launchColumns,
    orderBy: [{ createdAt: 'asc' }, { key: 'asc' }],
    take,
  });
  return rows.map(launchRecord);
}

/** Runnable retries still backing off: the earliest last update per attempt count. */
export async function backingOff(
  prisma: PrismaClient,
  sweepId: string,
  backoff: BackoffCutoff[],
): Promise<{ attempts: number; updatedAt: Date }[]> {
  const groups = await prisma.trial.groupBy({
    by: ['attempts'],
    where: { AND: [runnable(sweepId), { OR: retriesUpdated(backoff, (c) => ({ gt: c.updatedBy })) }] },
    _min: { updatedAt: true },
  });
  return groups.flatMap((g) =>
    g._min.updatedAt ? [{ attempts: g.attempts, updatedAt: g._min.updatedAt }] : [],
  );
}

/** Pending trials whose dependency ended without completing: they can never run. */
export function blockedTrials(prisma: PrismaClient, sweepId: string): Promise<BlockedTrial[]> {
  return prisma.trial.findMany({
    where: {
      sweepId,
      status: 'pending',
      dependsOn: {
        OR: [
          { status: 'cancelled' },
          { status: 'failed', retryable: false },
          { status: 'failed', retryable: null },
        ],
      },
    },
    select: { id: true, dependsOn: { select: { key: true, status: true } } },
    take: 1000,
  });
}
