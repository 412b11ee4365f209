/**
 * Seeded randomness for everything that must be reproducible from a trial's seed (masks, shuffles,
 * augmentation). mulberry32: tiny, fast, and good enough for sampling; not for cryptography.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that nearby seeds (0, 1, 2…) start far apart.
    this.state = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [k: number]: unknown }>(items: T): T {
    for (let k = items.length - 1; k > 0; k--) {
      const j = this.int(k + 1);
      const tmp = items[k];
      items[k] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A fresh generator derived from this one's seed and a label, for independent streams. */
  static derive(seed: number, label: string): Rng {
    let h = seed >>> 0;
    for (let k = 0; k < label.length; k++) h = Math.imul(h ^ label.charCodeAt(k), 0x01000193) >>> 0;
    return new Rng(h);
  }
}

/** A 0/1 mask of length `size` keeping exactly `keep` positions chosen uniformly at random. */
export function randomMask(size: number, keep: number, rng: Rng): Uint8Array {
  const mask = new Uint8Array(size);
  // Partial Fisher–Yates over indices: O(size) memory, O(keep) swaps.
  const order = new Uint32Array(size);
  for (let k = 0; k < size; k++) order[k] = k;
  for (let k = 0; k < keep; k++) {
    const j = k + rng.int(size - k);
    const tmp = order[k];
    order[k] = order[j];
    order[j] = tmp;
    mask[order[k]] = 1;
  }
  return mask;
}
