/**
 * Word-at-a-time loops over 0/1 byte arrays (masks, flags): four bytes per 32-bit operation.
 * They fall back to byte loops when the two ranges do not share an alignment.
 */

/** A 0/1 byte array with a Uint32 view over its 4-byte-aligned part. */
export class ByteWords {
  readonly words: Uint32Array;
  /** Bytes before the first aligned word. */
  private readonly head: number;

  constructor(readonly bytes: Uint8Array) {
    this.head = (4 - (bytes.byteOffset & 3)) & 3;
    const wordCount = Math.max(0, (bytes.length - this.head) >>> 2);
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset + this.head, wordCount);
  }

  /** Index into `words` of byte `index`, or -1 when that byte does not start a word. */
  wordAt(index: number): number {
    const rel = index - this.head;
    return rel >= 0 && (rel & 3) === 0 ? rel >>> 2 : -1;
  }
}

/** A per-analysis cache of word views, one per layer (keyed by graph node id). */
export function byteWordsCache(): (id: number, bytes: Uint8Array) => ByteWords {
  const views = new Map<number, ByteWords>();
  return (id, bytes) => {
    let view = views.get(id);
    if (!view) {
      view = new ByteWords(bytes);
      views.set(id, view);
    }
    return view;
  };
}

/** Sum of the four byte lanes of a word. */
const laneSum = (word: number) =>
  (word & 0xff) + ((word >>> 8) & 0xff) + ((word >>> 16) & 0xff) + (word >>> 24);

/**
 * Σ over `count` words of (a & b) bytes (0/1 each), adding whole words: each byte lane can take
 * 255 additions before it would carry, so lanes are summed once per 255 words.
 */
function sumWordBytes(a: Uint32Array, wa: number, b: Uint32Array | null, wb: number, count: number): number {
  let total = 0;
  for (let start = 0; start < count; start += 255) {
    const end = Math.min(count, start + 255);
    let lanes = 0;
    if (b) for (let w = start; w < end; w++) lanes += a[wa + w] & b[wb + w];
    else for (let w = start; w < end; w++) lanes += a[wa + w];
    total += laneSum(lanes >>> 0);
  }
  return total;
}

/** Σ a[aStart + k] & b[bStart + k] for k < n (0/1 bytes): the number of positions set in both. */
export function countBoth(a: ByteWords, aStart: number, b: ByteWords, bStart: number, n: number): number {
  let count = 0;
  let k = 0;
  while (k < n && a.wordAt(aStart + k) < 0) count += a.bytes[aStart + k] & b.bytes[bStart + k++];
  const wa = a.wordAt(aStart + k);
  const wb = b.wordAt(bStart + k);
  if (wa >= 0 && wb >= 0) {
    const words = (n - k) >>> 2;
    count += sumWordBytes(a.words, wa, b.words, wb, words);
    k += words << 2;
  }
  for (; k < n; k++) count += a.bytes[aStart + k] & b.bytes[bStart + k];
  return count;
}

/** Σ a[start + k] for k < n (0/1 bytes). */
export function countSet(a: ByteWords, start: number, n: number): number {
  let count = 0;
  let k = 0;
  while (k < n && a.wordAt(start + k) < 0) count += a.bytes[start + k++];
  const words = (n - k) >>> 2;
  if (words > 0) count += sumWordBytes(a.words, a.wordAt(start + k), null, 0, words);
  k += words << 2;
  for (; k < n; k++) count += a.bytes[start + k];
  return count;
}

/** dst[dStart + k] |= src[sStart + k] for k < n. */
export function orInto(dst: ByteWords, dStart: number, src: ByteWords, sStart: number, n: number): void {
  let k = 0;
  while (k < n && dst.wordAt(dStart + k) < 0) dst.bytes[dStart + k] |= src.bytes[sStart + k++];
  const wd = dst.wordAt(dStart + k);
  const ws = src.wordAt(sStart + k);
  if (wd >= 0 && ws >= 0) {
    const words = (n - k) >>> 2;
    for (let w = 0; w < words; w++) dst.words[wd + w] |= src.words[ws + w];
    k += words << 2;
  }
  for (; k < n; k++) dst.bytes[dStart + k] |= src.bytes[sStart + k];
}

/** The first index in [start, end) whose byte is non-zero, or `end`; skips zero words whole. */
export function nextSet(a: ByteWords, start: number, end: number): number {
  let k = start;
  while (k < end && a.wordAt(k) < 0) {
    if (a.bytes[k]) return k;
    k++;
  }
  let w = a.wordAt(k);
  while (k + 4 <= end && a.words[w] === 0) {
    k += 4;
    w++;
  }
  for (; k < end; k++) if (a.bytes[k]) return k;
  return end;
}
