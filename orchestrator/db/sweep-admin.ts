// What a person does to a sweep besides submitting it: retry its failed trials, put back the trials a
// killed `esweep run` left in flight, and reopen a finished sweep that has work again. (The
// controller's own writes live in repositories.ts.)
import type { PrismaClient } from './client.ts';

const TERMINAL_SWEEP = ['completed', 'failed', 'cancelled'] as const;

/** A finished sweep that has pending trials again (new trials, retries) becomes pending. */
export async function reopenIfPending(prisma: PrismaClient, sweepId: string): Promise<boolean> {
  const pending = await prisma.trial.count({ where: { sweepId, status: 'pending' } });
  if (pending === 0) return false;
  const { count } = await prisma.sweep.updateMany({
    where: { id: sweepId, status: { in: [...TERMINAL_SWEEP] } },
    data: { status: 'pending', finishedAt: null },
  });
  return count > 0;
}

/** Failed trials back to pending (each gets a new attempt); returns how many. */
export async function retryFailedTrials(prisma: PrismaClient, sweepId: string): Promise<number> {
  const { count } = await prisma.trial.updateMany({
    where: { sweepId, status: 'failed' },
    data: { status: 'pending', error: null, retryable: null, finishedAt: null },
  });
  await reopenIfPending(prisma, sweepId);
  return count;
}

/**
 * Trials recorded as queued or running whose process is gone (the local backend's runs die with
 * the `esweep run` that started them) go back to pending; their attempt is marked failed.
 */
export async function requeueInterrupted(prisma: PrismaClient, sweepId: string): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const where = { sweepId, status: { in: ['queued' as const, 'running' as const] } };
    const trials = await tx.trial.findMany({ where, select: { id: true, attempts: true } });
    if (trials.length === 0) return 0;
    await tx.attempt.updateMany({
      where: { OR: trials.map((t) => ({ trialId: t.id, number: t.attempts })) },
      data: { status: 'failed', error: 'interrupted', finishedAt: new Date() },
    });
    await tx.trial.updateMany({ where, data: { status: 'pending', error: null, retryable: null } });
    return trials.length;
  });
}
