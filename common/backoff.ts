/**
 * Exponential backoff shared by every retry loop: delay for retry `n` (1-based) is
 * `initialMs · 2^(n − 1)`, capped at `maxMs`, optionally with "full jitter" (a uniform draw in
 * [0, delay]) so that many clients retrying after one outage do not hit the server in step.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Draw each delay uniformly from [0, delay] (default false: the delay itself). */
  jitter?: boolean;
}

/** The delay before retry `retry` (1 = the first retry; 0 or less = no delay). */
export function backoffDelay(
  policy: BackoffPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  if (retry <= 0) return 0;
  const delay = Math.min(policy.maxMs, policy.initialMs * 2 ** (retry - 1));
  return policy.jitter ? Math.floor(random() * delay) : delay;
}

/** A retry counter over a policy: `next()` gives the next delay, `reset()` after a success. */
export class Backoff {
  private retries = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    this.retries += 1;
    return backoffDelay(this.policy, this.retries, this.random);
  }

  reset(): void {
    this.retries = 0;
  }

  /** Retries since the last reset. */
  get count(): number {
    return this.retries;
  }
}
