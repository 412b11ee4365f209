import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { parseSweepYaml } from './spec.ts';

const BASE = 'name: s\narchitectures: [lenet300100]\npruners: [random/uniform]\n';
const refused = (yaml: string, pattern: RegExp) =>
  assert.throws(
    () => parseSweepYaml(BASE + yaml, 's.yaml'),
    (error: unknown) => error instanceof InputError && pattern.test(error.message),
  );

test('compressions beyond a million are refused, not rounded to sparsity 1', () => {
  refused(
    'compressions: [1e300]\n',
    /^s\.yaml: compressions\[0\]: a compression must be ≤ 1,000,000 .*got 1e\+300/,
  );
  refused('compressions: {from: 10, to: 1e9, points: 3}\n', /a compression must be ≤ 1,000,000/);
  assert.deepEqual(parseSweepYaml(`${BASE}compressions: [1000000]\n`).compressions, [1_000_000]);
});

test('budgets are bounded', () => {
  refused(
    'budget: {iterations: 1e15}\n',
    /^s\.yaml: budget\.iterations: must be ≤ 10,000,000, got 1000000000000000$/,
  );
  refused('budget: {epochs: 1e9}\n', /^s\.yaml: budget\.epochs: must be ≤ 10,000/);
  assert.deepEqual(parseSweepYaml(`${BASE}budget: {iterations: 120000}\n`).budget, { iterations: 120_000 });
});
