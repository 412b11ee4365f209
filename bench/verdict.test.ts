import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { finish, formatHeadline, resetVerdicts, type Verdict, verdict } from './verdict.ts';

const base: Verdict = {
  name: 'vgg19 exact, sparsity 0.99',
  figure: '0.12× baseline',
  baseline: 'fwd+bwd 1200 ms',
  target: '≤ 1.5× baseline',
  met: true,
  backend: 'wasm',
};

const clear = () => {
  resetVerdicts();
  process.exitCode = undefined;
};
beforeEach(clear);
afterEach(clear);

test('a met target prints TARGET MET with figure, target, baseline and backend, and exits 0', () => {
  const lines: string[] = [];
  assert.equal(
    verdict(base, (l) => lines.push(l)),
    true,
  );
  assert.equal(
    lines[0],
    'TARGET MET    vgg19 exact, sparsity 0.99: 0.12× baseline (target ≤ 1.5× baseline; baseline fwd+bwd 1200 ms; backend wasm)',
  );
  const summary = finish();
  assert.equal(summary.pass, true);
  assert.deepEqual(summary.verdicts, [base]);
  assert.equal(process.exitCode, undefined);
});

test('one missed target among met ones prints TARGET MISSED and sets exit code 1', () => {
  const lines: string[] = [];
  verdict(base, (l) => lines.push(l));
  assert.equal(
    verdict({ ...base, name: 'graph', met: false }, (l) => lines.push(l)),
    false,
  );
  assert.match(lines[1]!, /^TARGET MISSED graph: /);
  assert.equal(finish().pass, false);
  assert.equal(process.exitCode, 1);
});

test('a bench that judged no target fails', () => {
  assert.equal(finish().pass, false);
  assert.equal(process.exitCode, 1);
});

test('the headline names the bench and its backend', () => {
  assert.equal(formatHeadline('prune', 'wasm', 'VGG-16'), 'bench:prune [backend wasm]: VGG-16');
});
