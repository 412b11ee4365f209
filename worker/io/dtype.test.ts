import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { descrOf, dtypeOfCode, floatToHalf, halfToFloat } from './dtype.ts';

describe('float16 conversion', () => {
  test('every non-NaN half bit pattern survives half → number → half', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = halfToFloat(bits);
      if (Number.isNaN(value)) {
        assert.ok(Number.isNaN(halfToFloat(floatToHalf(value))), `NaN pattern ${bits.toString(16)}`);
        continue;
      }
      assert.equal(floatToHalf(value), bits, `pattern 0x${bits.toString(16)} (${value})`);
    }
  });

  test('decodes the landmarks of binary16', () => {
    assert.equal(halfToFloat(0x3c00), 1);
    assert.equal(halfToFloat(0xc000), -2);
    assert.equal(halfToFloat(0x7bff), 65504);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.equal(halfToFloat(0x0400), 2 ** -14);
    assert.equal(halfToFloat(0x7c00), Number.POSITIVE_INFINITY);
    assert.ok(Object.is(halfToFloat(0x8000), -0));
  });

  test('rounds to nearest, ties to even, like astype(float16)', () => {
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'tie between 1 and next rounds to even 1');
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02, 'tie rounds up to the even mantissa');
    assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'above the tie rounds up');
    assert.equal(floatToHalf(65519), 0x7bff, 'below the overflow midpoint stays finite');
    assert.equal(floatToHalf(65520), 0x7c00, 'the overflow midpoint rounds to infinity');
    assert.equal(floatToHalf(2 ** -25), 0x0000, 'half the smallest subnormal ties to zero');
    assert.equal(floatToHalf(1.5 * 2 ** -25), 0x0001, 'above it rounds to the smallest subnormal');
    assert.equal(floatToHalf(2 ** -14 - 2 ** -25), 0x0400, 'largest subnormal tie carries into normal');
    assert.equal(floatToHalf(-1e9), 0xfc00);
    assert.ok(Number.isNaN(halfToFloat(floatToHalf(Number.NaN))));
  });
});

describe('dtype codes', () => {
  test('maps NumPy type codes both ways', () => {
    assert.equal(dtypeOfCode('f4'), 'float32');
    assert.equal(dtypeOfCode('b1'), 'bool');
    assert.equal(dtypeOfCode('u8'), 'uint64');
    assert.equal(dtypeOfCode('c8'), undefined);
    assert.equal(dtypeOfCode('O8'), undefined);
    assert.equal(descrOf('bool'), '|b1');
    assert.equal(descrOf('int8'), '|i1');
    assert.equal(descrOf('float16'), '<f2');
    assert.equal(descrOf('uint64'), '<u8');
  });
});
