/** Number and JSON formatting shared by the trial reporter and the CLI (which imports it from here). */

/** JSON with ∞ (an empty network's compression) written as null, as DESIGN §3 specifies. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/** 12.345 → "12.35", 1234.5 → "1234.5", ∞ → "inf". */
export const formatCompression = (compression: number) =>
  Number.isFinite(compression) ? compression.toFixed(compression < 100 ? 2 : 1) : 'inf';

/** 0.98765 → "98.765%". */
export const formatPercent = (fraction: number) => `${(fraction * 100).toFixed(3)}%`;
