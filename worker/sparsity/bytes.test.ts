import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../random.ts';
import { ByteWords, countBoth, countSet, nextSet, orInto } from './bytes.ts';

/** Random 0/1 bytes viewed at every alignment, against plain byte loops. */
test('word-at-a-time byte loops agree with byte loops at every offset and length', () => {
  const rng = new Rng(11);
  const buffer = new ArrayBuffer(4096);
  const a = new Uint8Array(buffer, 0, 2000).map(() => (rng.next() < 0.3 ? 1 : 0));
  const bBuffer = new Uint8Array(3000).map(() => (rng.next() < 0.5 ? 1 : 0));
  for (const aOffset of [0, 1, 2, 3]) {
    for (const bOffset of [0, 1, 3]) {
      const av = new ByteWords(a.subarray(aOffset));
      const bv = new ByteWords(bBuffer.subarray(bOffset));
      for (const [start, n] of [
        [0, 0],
        [0, 1500],
        [5, 1027],
        [8, 1300],
        [3, 7],
      ]) {
        let both = 0;
        let set = 0;
        for (let k = 0; k < n; k++) {
          both += av.bytes[start + k] & bv.bytes[start + k];
          set += av.bytes[start + k];
        }
        assert.equal(countBoth(av, start, bv, start, n), both);
        assert.equal(countSet(av, start, n), set);
        let first = start + n;
        for (let k = start; k < start + n; k++)
          if (av.bytes[k]) {
            first = k;
            break;
          }
        assert.equal(nextSet(av, start, start + n), first);
      }
      const dst = new ByteWords(new Uint8Array(1600).subarray(aOffset));
      orInto(dst, 2, bv, 2, 1400);
      for (let k = 0; k < 1400; k++) assert.equal(dst.bytes[2 + k], bv.bytes[2 + k]);
    }
  }
  // Long all-ones runs exercise the lane carry limit (255 words per lane sum).
  const ones = new ByteWords(new Uint8Array(100_003).fill(1));
  assert.equal(countSet(ones, 0, 100_003), 100_003);
  assert.equal(countBoth(ones, 1, ones, 1, 100_000), 100_000);
  assert.equal(nextSet(new ByteWords(new Uint8Array(1000)), 0, 1000), 1000);
});
