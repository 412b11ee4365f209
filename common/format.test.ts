import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCompression, formatPercent } from './format.ts';

test('formatCompression keeps two decimals below 100, one above, and prints inf', () => {
  assert.equal(formatCompression(12.345), '12.35');
  assert.equal(formatCompression(1234.56), '1234.6');
  assert.equal(formatCompression(Number.POSITIVE_INFINITY), 'inf');
});

test('formatPercent prints a fraction as a percentage with three decimals', () => {
  assert.equal(formatPercent(0.98765), '98.765%');
  assert.equal(formatPercent(0), '0.000%');
});
