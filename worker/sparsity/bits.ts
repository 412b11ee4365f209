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

  get(k: number): number {
    return (this.words[k >>> 5] >>> (k & 31)) & 1;
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

/** Packs a byte mask (any non-zero byte = kept). */
export function packMask(bytes: Uint8Array): PackedMask {
  const packed = new PackedMask(bytes.length);
  const words = packed.words;
  const align = (4 - (bytes.byteOffset & 3)) & 3;
  const head = Math.min(bytes.length, align);
  for (let k = 0; k < head; k++) if (bytes[k] !== 0) words[k >>> 5] |= 1 << (k & 31);
  const quads = head === align ? (bytes.length - head) >>> 2 : 0;
  const view = new Uint32Array(
    quads > 0 ? bytes.buffer : new ArrayBuffer(0),
    quads > 0 ? bytes.byteOffset + head : 0,
    quads,
  );
  for (let q = 0; q < quads; q++) {
    let w = view[q];
    if (w === 0) continue;
    // Bit 0 of each byte lane becomes "the lane is non-zero"; then the four lane bits are gathered.
    w |= w >>> 1;
    w |= w >>> 2;
    w |= w >>> 4;
    const nibble = (w & 1) | ((w >>> 7) & 2) | ((w >>> 14) & 4) | ((w >>> 21) & 8);
    const k = head + (q << 2);
    words[k >>> 5] |= nibble << (k & 31);
    // A nibble starting at bit 29..31 of a word spills into the next one (only with a head of 1..3).
    if ((k & 31) > 28) words[(k >>> 5) + 1] |= nibble >>> (32 - (k & 31));
  }
  for (let k = head + (quads << 2); k < bytes.length; k++)
    if (bytes[k] !== 0) words[k >>> 5] |= 1 << (k & 31);
  return packed;
}

/** Writes the set bits of `src` as 1 bytes into `out` (which starts zeroed) from `outStart` on. */
export function spreadBits(
  src: Uint32Array,
  start: number,
  n: number,
  out: Uint8Array,
  outStart: number,
): void {
  for (let k = nextSetBit(src, start, start + n); k < start + n; k = nextSetBit(src, k + 1, start + n))
    out[outStart + k - start] = 1;
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
