/** Number and JSON formatting shared by the trial reporter and the CLI (which imports it from here). */

/**
 * One line of JSON. ∞ (an empty network's compression) comes out as null, as docs/cli.md specifies,
 * because JSON.stringify writes every non-finite number so.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** 12.345 → "12.35", 1234.5 → "1234.5", ∞ → "inf". */
export const formatCompression = (compression: number) =>
  Number.isFinite(compression) ? compression.toFixed(compression < 100 ? 2 : 1) : 'inf';

/** 0.98765 → "98.765%". */
export const formatPercent = (fraction: number) => `${(fraction * 100).toFixed(3)}%`;

/** Where a trial ran: `gpu (NVIDIA H100 80GB HBM3)`, `wasm (AMD EPYC 7B13)`, or the backend alone. */
export const formatRanOn = (r: { backend: string; device: string | null } | null) =>
  r === null ? '' : r.device ? `${r.backend} (${r.device})` : r.backend;
