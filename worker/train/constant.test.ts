import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constantPrediction } from './constant.ts';

const split = (labels: number[]) => ({
  count: labels.length,
  images: new Uint8Array(0),
  labels: Int32Array.from(labels),
});

test('a disconnected network predicts the training labels’ majority class, scored on the test labels', () => {
  // Training: class 2 ×3, class 0 ×1; test: one 2 of four.
  const p = constantPrediction({ classes: 3, train: split([2, 0, 2, 2]), test: split([2, 0, 1, 0]) });
  assert.equal(p.majorityClass, 2);
  assert.equal(p.accuracy, 0.25);
  assert.ok(Math.abs(p.loss - -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))) < 1e-12);
  // Class 1 never occurs in training: the frequencies give it probability 0.
  assert.equal(p.testLoss, Infinity);
});

test('a tie goes to the lowest class', () => {
  const p = constantPrediction({ classes: 2, train: split([1, 0]), test: split([0, 0, 1]) });
  assert.equal(p.majorityClass, 0);
  assert.ok(Math.abs(p.accuracy - 2 / 3) < 1e-12);
  assert.ok(Math.abs(p.testLoss - Math.log(2)) < 1e-12);
});
