/** Counting set bytes of a 0/1 byte array (a mask) four bytes per 32-bit operation. */

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

/** Sum of the four byte lanes of a word. */
const laneSum = (word: number) =>
  (word & 0xff) + ((word >>> 8) & 0xff) + ((word >>> 16) & 0xff) + (word >>> 24);

/**
 * Σ of the bytes (0/1 each) of `count` words, adding whole words: each byte lane can take
 * 255 additions before it would carry, so lanes are summed once per 255 words.
 */
function sumWordBytes(a: Uint32Array, wa: number, count: number): number {
  let total = 0;
  for (let start = 0; start < count; start += 255) {
    const end = Math.min(count, start + 255);
    let lanes = 0;
    for (let w = start; w < end; w++) lanes += a[wa + w];
    total += laneSum(lanes >>> 0);
  }
  return total;
}

/** Σ a[start + k] for k < n (0/1 bytes). */
export function countSet(a: ByteWords, start: number, n: number): number {
  let count = 0;
  let k = 0;
  while (k < n && a.wordAt(start + k) < 0) count += a.bytes[start + k++];
  const words = (n - k) >>> 2;
  if (words > 0) count += sumWordBytes(a.words, a.wordAt(start + k), words);
  k += words << 2;
  for (; k < n; k++) count += a.bytes[start + k];
  return count;
}
