import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../random.ts';
import {
  bits32,
  countBits,
  countBothBits,
  fillBits,
  nextSetBit,
  orBits,
  PackedMask,
  packMask,
  popcount,
  wordsFor,
} from './bits.ts';

/** Random 0/1 bytes with the given share of ones, and the same bits packed by the obvious loop. */
function randomBits(n: number, density: number, rng: Rng): { bytes: Uint8Array; words: Uint32Array } {
  const bytes = Uint8Array.from({ length: n }, () => (rng.next() < density ? 1 : 0));
  const words = new Uint32Array(wordsFor(n));
  bytes.forEach((b, k) => {
    if (b) words[k >>> 5] |= 1 << (k & 31);
  });
  return { bytes, words };
}

describe('packed bit ranges agree with byte-by-byte definitions', () => {
  const rng = new Rng(5);
  const n = 1_000;
  for (const density of [0, 0.01, 0.5, 0.97, 1]) {
    test(`density ${density}: every start and length near word edges`, () => {
      const a = randomBits(n, density, rng);
      const b = randomBits(n, 1 - density / 2, rng);
      for (const aStart of [0, 1, 5, 31, 32, 33, 63, 64, 100]) {
        for (const bStart of [0, 3, 31, 32, 65]) {
          for (const length of [0, 1, 7, 31, 32, 33, 64, 65, 97, 300, n - 101]) {
            let both = 0;
            let set = 0;
            let first = aStart + length;
            for (let k = 0; k < length; k++) {
              both += a.bytes[aStart + k] & b.bytes[bStart + k];
              set += a.bytes[aStart + k];
              if (a.bytes[aStart + k] && first === aStart + length) first = aStart + k;
            }
            const at = `a@${aStart} b@${bStart} n=${length}`;
            assert.equal(countBothBits(a.words, aStart, b.words, bStart, length), both, at);
            assert.equal(countBits(a.words, aStart, length), set, at);
            assert.equal(nextSetBit(a.words, aStart, aStart + length), first, at);
            const dst = randomBits(n, 0.1, rng);
            const expected = Uint8Array.from(dst.bytes);
            for (let k = 0; k < length; k++) expected[bStart + k] |= a.bytes[aStart + k];
            orBits(dst.words, bStart, a.words, aStart, length);
            assert.deepEqual(new PackedMask(n, dst.words).toBytes(), expected, `or ${at}`);
          }
        }
      }
    });
  }

  test('bits32 reads 32 bits from any offset, zeros past the end', () => {
    const words = Uint32Array.from([0x89abcdef, 0x01234567]);
    assert.equal(bits32(words, 0) >>> 0, 0x89abcdef);
    assert.equal(bits32(words, 4) >>> 0, 0x789abcde);
    assert.equal(bits32(words, 32) >>> 0, 0x01234567);
    assert.equal(bits32(words, 36) >>> 0, 0x00123456);
    assert.equal(bits32(words, 64), 0);
  });

  test('popcount of whole words, the sign bit included', () => {
    assert.deepEqual([0, 1, 0xff, -1, 0x80000000, 0x55555555].map(popcount), [0, 1, 8, 32, 1, 16]);
  });

  test('fillBits sets exactly the range', () => {
    for (const [start, length] of [
      [0, 0],
      [3, 29],
      [3, 30],
      [31, 2],
      [32, 32],
      [5, 200],
    ]) {
      const words = new Uint32Array(wordsFor(300));
      fillBits(words, start, length);
      const bytes = new PackedMask(300, words).toBytes();
      assert.deepEqual(
        [...bytes],
        Array.from({ length: 300 }, (_, k) => (k >= start && k < start + length ? 1 : 0)),
      );
    }
  });
});

describe('packMask', () => {
  test('any alignment, any length, any non-zero byte counts as kept', () => {
    const rng = new Rng(9);
    for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 100, 1_027]) {
      for (let offset = 0; offset < 4; offset++) {
        const holder = new Uint8Array(length + offset + 4).fill(7);
        const bytes = holder.subarray(offset, offset + length);
        for (let k = 0; k < length; k++) {
          const r = rng.next();
          bytes[k] = r < 0.5 ? 0 : r < 0.75 ? 1 : Math.floor(r * 256);
        }
        const packed = packMask(bytes);
        assert.equal(packed.length, length);
        assert.deepEqual(
          [...packed.toBytes()],
          [...bytes].map((b) => (b !== 0 ? 1 : 0)),
          `${length} bytes at offset ${offset}`,
        );
      }
    }
  });
});
