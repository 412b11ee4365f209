/** Unsigned keys whose ascending order is the descending order of the float scores. */
function descendingKeys(scores: Float32Array): Uint32Array {
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  const keys = new Uint32Array(scores.length);
  for (let k = 0; k < keys.length; k++) {
    const b = bits[k];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) throw new Error(`score ${k} is NaN`);
    keys[k] = b & 0x80000000 ? b : (~b >>> 0) & 0x7fffffff;
  }
  return keys;
}

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

/**
 * Masks keeping the `kept` highest scores over all layers together (ties: earlier layer and index
 * first), the same set `rankDescending` would put first, by radix selection: a 16-bit histogram
 * finds the threshold's bucket, a second one the threshold, without sorting. For the rounds of
 * iterative pruners, which need only the set.
 */
export function topKMasks(scores: readonly Float32Array[], kept: number): Uint8Array[] {
  const keys = scores.map(descendingKeys);
  const high = new Uint32Array(65536);
  for (const layer of keys) for (let k = 0; k < layer.length; k++) high[layer[k] >>> 16]++;
  let before = 0;
  let bucket = 0;
  while (bucket < 65535 && before + high[bucket] < kept) before += high[bucket++];
  const low = new Uint32Array(65536);
  for (const layer of keys)
    for (let k = 0; k < layer.length; k++) if (layer[k] >>> 16 === bucket) low[layer[k] & 0xffff]++;
  let digit = 0;
  while (digit < 65535 && before + low[digit] < kept) before += low[digit++];
  const threshold = ((bucket << 16) | digit) >>> 0;
  let ties = kept - before;
  return keys.map((layer) => {
    const mask = new Uint8Array(layer.length);
    for (let k = 0; k < layer.length; k++) {
      const key = layer[k];
      if (key < threshold || (key === threshold && ties-- > 0)) mask[k] = 1;
    }
    return mask;
  });
}
