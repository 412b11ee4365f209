const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;

/**
 * Indices of `scores` from highest to lowest score (ties: lower index first). An LSD radix sort
 * of (key, index) pairs on the float bits, three 11-bit passes: O(n), sequential reads and few
 * enough buckets to stay in cache, where a comparison sort of millions of scores would dominate
 * pruning time.
 */
export function rankDescending(scores: Float32Array): Uint32Array {
  const n = scores.length;
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  let keys = new Uint32Array(n);
  let order = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    const b = bits[k];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) throw new Error(`score ${k} is NaN`);
    // Unsigned keys whose ascending order is the descending order of the scores.
    keys[k] = b & 0x80000000 ? b : (~b >>> 0) & 0x7fffffff;
    order[k] = k;
  }
  let keysOut = new Uint32Array(n);
  let orderOut = new Uint32Array(n);
  const counts = new Uint32Array(BUCKETS);
  for (let shift = 0; shift < 32; shift += DIGIT_BITS) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[(keys[k] >>> shift) & (BUCKETS - 1)]++;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[b];
      counts[b] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const key = keys[k];
      const slot = counts[(key >>> shift) & (BUCKETS - 1)]++;
      keysOut[slot] = key;
      orderOut[slot] = order[k];
    }
    [keys, keysOut] = [keysOut, keys];
    [order, orderOut] = [orderOut, order];
  }
  return order;
}
