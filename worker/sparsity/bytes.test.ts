import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../random.ts';
import { ByteWords, countSet } from './bytes.ts';

/** Random 0/1 bytes viewed at every alignment, against a plain byte loop. */
test('the word-at-a-time count agrees with a byte loop at every offset and length', () => {
  const rng = new Rng(11);
  const a = new Uint8Array(2000).map(() => (rng.next() < 0.3 ? 1 : 0));
  for (const offset of [0, 1, 2, 3]) {
    const view = new ByteWords(a.subarray(offset));
    for (const [start, n] of [
      [0, 0],
      [0, 1500],
      [5, 1027],
      [8, 1300],
      [3, 7],
    ]) {
      let set = 0;
      for (let k = 0; k < n; k++) set += view.bytes[start + k];
      assert.equal(countSet(view, start, n), set, `offset ${offset}, [${start}, ${start + n})`);
    }
  }
  // Long all-ones runs exercise the lane carry limit (255 words per lane sum).
  assert.equal(countSet(new ByteWords(new Uint8Array(100_003).fill(1)), 0, 100_003), 100_003);
});
