// Stable identities: a trial's key is a hash of its normalized parameters, so the same trial in a
// resubmitted (or edited) sweep gets the same key and is recognised as already there.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedKeys(value));
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortedKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** Hex sha256 of `text`, truncated to `length` characters. */
export function shortHash(text: string, length = 16): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** 16 hex characters (64 bits): collision odds for a 20,000-trial sweep are about 1e-11. */
export function trialKey(normalized: unknown): string {
  return shortHash(canonicalJson(normalized), 16);
}

/**
 * A number as it goes into a key: 10 significant digits, so that a value computed on a log scale and
 * the same value typed by hand (10^1.5 vs 31.6227766) give one key.
 */
export function normalizeNumber(x: number): number {
  return Number(x.toPrecision(10));
}
