// Retries of API-server requests, as client-go does them: 429 Too Many Requests waits what
// Retry-After says (the server's flow control knows better than any backoff), 5xx and dropped
// connections back off exponentially with full jitter (common/backoff.ts) so that many clients
// coming back after one outage do not return in step, and a 409 Conflict (the object changed under
// an update) is retried too. Anything else (4xx: the request itself is wrong) is not.
import { ApiException } from '@kubernetes/client-node';
import { Backoff, type BackoffPolicy } from '../../../common/backoff.ts';

export interface RetryPolicy {
  /** Tries in all, the first included (default 8). */
  attempts: number;
  backoff: BackoffPolicy;
  /** A Retry-After longer than this is cut to it (default 60 s). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 8,
  backoff: { initialMs: 200, maxMs: 10_000, jitter: true },
  maxRetryAfterMs: 60_000,
};

/** Status codes worth another try after a backoff. */
const TRANSIENT = new Set([500, 502, 503, 504]);
/** Errors of a connection that broke or was refused (an API server restarting, a load balancer). */
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** The `reason` of a Status body (`AlreadyExists`, `Conflict`…), when the error carries one. */
export function statusReason(error: unknown): string | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const body = error.body as unknown;
  try {
    const status = typeof body === 'string' ? JSON.parse(body) : body;
    return typeof status?.reason === 'string' ? status.reason : undefined;
  } catch {
    return undefined;
  }
}

/** The HTTP status of an API error: an ApiException's code, or a watch error's statusCode. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date), if the response named one. */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  if (!(error instanceof ApiException)) return undefined;
  const headers = (error.headers ?? {}) as Record<string, string | undefined>;
  const value = headers['retry-after'] ?? headers['Retry-After'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export type Retryable = 'throttled' | 'server' | 'conflict' | 'network';

/** Why an error deserves another try, or undefined when it does not. */
export function retryableKind(error: unknown): Retryable | undefined {
  const code = statusOf(error);
  if (code === 429) return 'throttled';
  if (code !== undefined && TRANSIENT.has(code)) return 'server';
  if (code === 409 && statusReason(error) === 'Conflict') return 'conflict';
  if (code !== undefined) return undefined;
  const errno = (error as { code?: unknown; cause?: { code?: unknown } } | null) ?? {};
  const name = errno.code ?? errno.cause?.code;
  return typeof name === 'string' && NETWORK.has(name) ? 'network' : undefined;
}

export type RetryObserver = (event: {
  what: string;
  kind: Retryable;
  code?: number;
  delayMs: number;
  attempt: number;
}) => void;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `call` until it succeeds, fails for good, or `policy.attempts` tries are spent (then the
 * last error is thrown). `what` names the request in `onRetry`'s reports.
 */
export async function withRetries<T>(
  what: string,
  call: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: RetryObserver,
  random: () => number = Math.random,
  wait: (ms: number) => Promise<void> = sleep,
): Promise<T> {
  const backoff = new Backoff(policy.backoff, random);
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const kind = retryableKind(error);
      if (!kind || attempt >= policy.attempts) throw error;
      const jittered = backoff.next();
      const after = kind === 'throttled' ? retryAfterMs(error) : undefined;
      // Retry-After is a floor: wait what the server asked, plus a little jitter so that the clients
      // it throttled together do not come back together.
      const delayMs =
        after !== undefined
          ? Math.min(after, policy.maxRetryAfterMs) + Math.floor(random() * policy.backoff.initialMs)
          : jittered;
      onRetry?.({ what, kind, code: statusOf(error), delayMs, attempt });
      await wait(delayMs);
    }
  }
}
