import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCompression, formatPercent, toJson } from './format.ts';

test('toJson writes non-finite numbers as null and keeps the rest', () => {
  assert.equal(
    toJson({ a: Number.POSITIVE_INFINITY, b: [1.5, Number.NaN], c: 'x' }),
    '{"a":null,"b":[1.5,null],"c":"x"}',
  );
});

test('formatCompression keeps two decimals below 100, one above, and prints inf', () => {
  assert.equal(formatCompression(12.345), '12.35');
  assert.equal(formatCompression(1234.56), '1234.6');
  assert.equal(formatCompression(Number.POSITIVE_INFINITY), 'inf');
});

test('formatPercent prints a fraction as a percentage with three decimals', () => {
  assert.equal(formatPercent(0.98765), '98.765%');
  assert.equal(formatPercent(0), '0.000%');
});
