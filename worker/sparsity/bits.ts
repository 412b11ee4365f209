/**
 * Packed 0/1 arrays: bit k of a range lives at bit `k & 31` of word `k >> 5`. The analysis reads a
 * network's masks in this form (one bit per weight instead of a byte), so that a model's masks cost
 * an eighth of the memory and whole words of weights are skipped or counted at once. Ranges may
 * start at any bit: a layer's mask rows start wherever the previous row ended.
 */

/** A layer's mask packed one bit per weight, in the same (out, in/groups, kh, kw) order as its bytes. */
export class PackedMask {
  constructor(
    /** Weights (bits) in the mask. */
    readonly length: number,
    readonly words: Uint32Array = new Uint32Array(wordsFor(length)),
  ) {
    if (words.length < wordsFor(length)) throw new Error(`${words.length} words cannot hold ${length} bits`);
  }

  set(k: number): void {
    this.words[k >>> 5] |= 1 << (k & 31);
  }

  /** The mask as one byte per weight (1 = kept). */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(this.length);
    for (
      let k = nextSetBit(this.words, 0, this.length);
      k < this.length;
      k = nextSetBit(this.words, k + 1, this.length)
    )
      bytes[k] = 1;
    return bytes;
  }
}

export const wordsFor = (bits: number) => (bits + 31) >>> 5;

/** Bit k of packed words, 0 or 1. */
export const bitAt = (words: Uint32Array, k: number) => (words[k >>> 5] >>> (k & 31)) & 1;

/** The four lanes of a word of bytes as a nibble: bit j set where byte j is non-zero. */
function laneBits(w: number): number {
  // High bit of each lane: set where the lane is non-zero (no carry crosses lanes).
  const high = (((w & 0x7f7f7f7f) + 0x7f7f7f7f) | w) & 0x80808080;
  // Lane bits at 0, 8, 16, 24 gathered into bits 24..27 by one multiplication (no two terms collide).
  return Math.imul(high >>> 7, 0x01020408) >>> 24;
}

/** Packs a byte mask (any non-zero byte = kept). */
export function packMask(bytes: Uint8Array): PackedMask {
  // Read four bytes per word: a mask not starting on a 4-byte boundary is copied to one that does.
  const aligned = (bytes.byteOffset & 3) === 0 ? bytes : bytes.slice();
  const n = aligned.length;
  const packed = new PackedMask(n);
  const words = packed.words;
  const groups = n >>> 5;
  const view = new Int32Array(aligned.buffer, aligned.byteOffset, groups << 3);
  for (let q = 0; q < groups; q++) {
    const v = q << 3;
    const w0 = view[v];
    const w1 = view[v + 1];
    const w2 = view[v + 2];
    const w3 = view[v + 3];
    const w4 = view[v + 4];
    const w5 = view[v + 5];
    const w6 = view[v + 6];
    const w7 = view[v + 7];
    if ((w0 | w1 | w2 | w3 | w4 | w5 | w6 | w7) === 0) continue;
    words[q] =
      laneBits(w0) |
      (laneBits(w1) << 4) |
      (laneBits(w2) << 8) |
      (laneBits(w3) << 12) |
      (laneBits(w4) << 16) |
      (laneBits(w5) << 20) |
      (laneBits(w6) << 24) |
      (laneBits(w7) << 28);
  }
  for (let k = groups << 5; k < n; k++) if (aligned[k] !== 0) words[k >>> 5] |= 1 << (k & 31);
  return packed;
}

/** Bits `bit`..`bit + 31` of `words` as an int32 (bits past the end read as 0). */
export function bits32(words: Uint32Array, bit: number): number {
  const q = bit >>> 5;
  const r = bit & 31;
  const lo = q < words.length ? words[q] >>> r : 0;
  const hi = r !== 0 && q + 1 < words.length ? words[q + 1] << (32 - r) : 0;
  return lo | hi;
}

/** The low `n` bits set (n ≤ 32), as an int32. */
const lowBits = (n: number) => (n >= 32 ? -1 : (1 << n) - 1);

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** The first set bit in [start, end), or `end`. Zero words are skipped whole. */
export function nextSetBit(words: Uint32Array, start: number, end: number): number {
  if (start >= end) return end;
  let q = start >>> 5;
  let w = words[q] & ~lowBits(start & 31);
  const last = (end - 1) >>> 5;
  while (w === 0) {
    if (++q > last) return end;
    w = words[q];
  }
  const k = (q << 5) + (31 - Math.clz32(w & -w));
  return Math.min(k, end);
}

/** Σ over k < n of bit aStart + k of `a` AND bit bStart + k of `b`. */
export function countBothBits(
  a: Uint32Array,
  aStart: number,
  b: Uint32Array,
  bStart: number,
  n: number,
): number {
  let count = 0;
  let k = 0;
  for (; k + 32 <= n; k += 32) {
    const x = bits32(a, aStart + k);
    if (x !== 0) count += popcount(x & bits32(b, bStart + k));
  }
  if (k < n) count += popcount(bits32(a, aStart + k) & bits32(b, bStart + k) & lowBits(n - k));
  return count;
}

/** Σ of bits start..start + n − 1. */
export function countBits(words: Uint32Array, start: number, n: number): number {
  let count = 0;
  let k = 0;
  for (; k + 32 <= n; k += 32) count += popcount(bits32(words, start + k));
  if (k < n) count += popcount(bits32(words, start + k) & lowBits(n - k));
  return count;
}

/** dst bits dStart + k |= src bits sStart + k, for k < n: a word of dst at a time. */
export function orBits(dst: Uint32Array, dStart: number, src: Uint32Array, sStart: number, n: number): void {
  let k = 0;
  while (k < n) {
    const at = dStart + k;
    const r = at & 31;
    const take = Math.min(32 - r, n - k);
    const bits = bits32(src, sStart + k) & lowBits(take);
    if (bits !== 0) dst[at >>> 5] |= bits << r;
    k += take;
  }
}

/** Sets bits start..start + n − 1. */
export function fillBits(words: Uint32Array, start: number, n: number): void {
  let k = 0;
  while (k < n) {
    const at = start + k;
    const r = at & 31;
    const take = Math.min(32 - r, n - k);
    words[at >>> 5] |= lowBits(take) << r;
    k += take;
  }
}
