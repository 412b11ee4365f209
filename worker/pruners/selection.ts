import type { Architecture } from '../arch/graph.ts';
import { rankDescending } from './ranking.ts';

/**
 * Turns fixed scores into masks for any number of kept weights: the one shared top-k. Masks for
 * more kept weights contain those for fewer (nested), which is what lets effective pruning bisect
 * on the count without re-scoring.
 */
export interface Selection {
  masksFor(kept: number): Uint8Array[];
  /** The weights (layer, index) that `masksFor(kept + 1)` adds to `masksFor(kept)`. */
  added(kept: number): [layer: number, index: number][];
}

/** Splits a total into per-layer integer counts proportional to `shares` (largest remainder). */
export function apportion(shares: readonly number[], total: number, caps: readonly number[]): number[] {
  const sum = shares.reduce((a, b) => a + b, 0);
  const exact = shares.map((share, k) => Math.min(caps[k], sum > 0 ? (share / sum) * total : 0));
  const counts = exact.map(Math.floor);
  let missing = total - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((v, k) => [v - Math.floor(v), k] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let pass = 0; missing > 0 && pass < 2; pass++) {
    for (const [, k] of byRemainder) {
      if (missing === 0) break;
      if (counts[k] < caps[k]) {
        counts[k]++;
        missing--;
      }
    }
  }
  return counts;
}

/** Global top-k over all layers' scores concatenated. */
export function globalSelection(
  arch: Architecture,
  scores: readonly Float32Array[],
): Selection & { order: Uint32Array } {
  const all = new Float32Array(arch.totalParams);
  const offsets: number[] = [];
  let offset = 0;
  for (const layerScores of scores) {
    offsets.push(offset);
    all.set(layerScores, offset);
    offset += layerScores.length;
  }
  const order = rankDescending(all);
  return {
    order,
    masksFor(kept) {
      // One buffer for all layers; each layer's mask is a view of its stretch.
      const flat = new Uint8Array(arch.totalParams);
      for (let r = 0; r < kept; r++) flat[order[r]] = 1;
      return arch.layers.map((layer, k) => flat.subarray(offsets[k], offsets[k] + layer.params));
    },
    added(kept) {
      if (kept >= order.length) return [];
      const index = order[kept];
      let k = offsets.length - 1;
      while (offsets[k] > index) k--;
      return [[k, index - offsets[k]]];
    },
  };
}

/** Per-layer top-k, with per-layer counts from `countsFor(kept)`. */
export function layerwiseSelection(
  scores: readonly Float32Array[],
  countsFor: (kept: number) => readonly number[],
): Selection {
  const orders = scores.map(rankDescending);
  return {
    masksFor(kept) {
      const counts = countsFor(kept);
      return orders.map((order, k) => {
        const mask = new Uint8Array(order.length);
        for (let r = 0; r < counts[k]; r++) mask[order[r]] = 1;
        return mask;
      });
    },
    added(kept) {
      const before = countsFor(kept);
      const after = countsFor(kept + 1);
      return orders.flatMap((order, k) =>
        Array.from(
          { length: Math.max(0, after[k] - before[k]) },
          (_, r) => [k, order[before[k] + r]] as [number, number],
        ),
      );
    },
  };
}
