// Retrying one batch write until it commits. Most failures are the database's (connection lost, disk
// full, lock timeouts) and are retried with backoff for as long as it takes. A failure that names the
// data (SQLSTATE class 22 data exception, 23 integrity violation, 54 program limit exceeded) while the
// database answers refuses the batch at once, so the caller can split it and find the message at
// fault: retrying it as it is cannot succeed, and would only delay the messages around it.
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type BackoffPolicy } from '../../common/backoff.ts';

export type WriteOutcome<R> =
  | { kind: 'written'; value: R }
  | { kind: 'refused'; reason: string }
  | { kind: 'stopped' };

export interface RetryOptions {
  backoff: BackoffPolicy;
  /** Failures after which a data error refuses the batch (default 1: at once). */
  refuseAfter?: number;
  /** False for a write that holds no message that could be at fault: it is never refused. */
  refusable: boolean;
  /** True once the caller is stopping: the write is abandoned between tries. */
  stopped: () => boolean;
  /** Whether the database answers at all; a data error while it does not is not trusted. */
  databaseAnswers: () => Promise<boolean>;
  /** Told about each failed try (1-based count), before the decision to retry. */
  onFailure?: (error: unknown, failures: number) => void;
  /** Waits between tries (tests pass a stand-in). */
  wait?: (ms: number) => Promise<unknown>;
}

const DATA_ERROR_CLASSES = ['22', '23', '54'];

export async function retryWrite<R>(
  write: () => Promise<R>,
  options: RetryOptions,
): Promise<WriteOutcome<R>> {
  const backoff = new Backoff(options.backoff);
  const refuseAfter = options.refuseAfter ?? 1;
  const wait = options.wait ?? sleep;
  for (let failures = 1; ; failures++) {
    try {
      return { kind: 'written', value: await write() };
    } catch (error) {
      options.onFailure?.(error, failures);
      if (
        options.refusable &&
        failures >= refuseAfter &&
        isDataError(error) &&
        (await options.databaseAnswers())
      ) {
        return { kind: 'refused', reason: describeError(error) };
      }
      if (options.stopped()) return { kind: 'stopped' };
      await wait(backoff.next());
    }
  }
}

/** A data exception, integrity violation or size limit: the data is at fault, not the database. */
export function isDataError(error: unknown): boolean {
  const meta = (error as { meta?: { code?: unknown } })?.meta;
  const code =
    typeof meta?.code === 'string'
      ? meta.code
      : /Code: `(\w{5})`/.exec(String((error as Error)?.message))?.[1];
  return code !== undefined && DATA_ERROR_CLASSES.includes(code.slice(0, 2));
}

/** An error's message, short enough for a log line or a dead letter's detail. */
export function describeError(error: unknown): string {
  return String((error as Error)?.message ?? error).slice(0, 500);
}
