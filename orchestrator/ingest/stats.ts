// The ingester's running totals, read by its callers (and tests) to see what it did.
import { describeError } from './retry.ts';

export interface IngesterStats {
  /** Deliveries read, redeliveries included. */
  messages: number;
  /** Deliveries of a message delivered before (the server's count). */
  redeliveries: number;
  /** Transactions committed. */
  batches: number;
  inserted: number;
  duplicates: number;
  points: number;
  deadLetters: number;
  /** Dead letters by reason. */
  deadLettersByReason: Record<string, number>;
  /** Failed tries to commit a batch. */
  dbErrors: number;
  lastError: string | null;
}

export function emptyStats(): IngesterStats {
  return {
    messages: 0,
    redeliveries: 0,
    batches: 0,
    inserted: 0,
    duplicates: 0,
    points: 0,
    deadLetters: 0,
    deadLettersByReason: {},
    dbErrors: 0,
    lastError: null,
  };
}

/** Counts one committed batch. */
export function recordBatch(
  stats: IngesterStats,
  written: { inserted: number; duplicates: number; points: number },
  deadLetters: readonly { reason: string }[],
): void {
  stats.batches++;
  stats.inserted += written.inserted;
  stats.duplicates += written.duplicates;
  stats.points += written.points;
  stats.deadLetters += deadLetters.length;
  for (const { reason } of deadLetters) {
    stats.deadLettersByReason[reason] = (stats.deadLettersByReason[reason] ?? 0) + 1;
  }
}

/** Counts one failed try and keeps its message. */
export function recordFailure(stats: IngesterStats, error: unknown): void {
  stats.dbErrors++;
  stats.lastError = describeError(error);
}
