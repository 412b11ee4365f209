// Polling for a condition in tests, bounded: a check that never comes true, or never settles, fails
// the test with the name of what it waited for instead of holding the run.

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between checks (default 20 ms; checks that query a database want longer). */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns a truthy value and returns that value. Throws `timed out waiting
 * for <what>` once `timeoutMs` has passed, also while a check is still pending.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: number | WaitOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 20 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    for (;;) {
      const value = await Promise.race([check(), expired]);
      if (value) return value as NonNullable<T>;
      await Promise.race([new Promise((resolve) => setTimeout(resolve, intervalMs)), expired]);
    }
  } finally {
    clearTimeout(timer);
  }
}
