import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { consoleReporter } from '../report/console.ts';
import { runTrial } from './run.ts';
import { parseTrial, resolveTrial } from './spec.ts';

const base = { arch: 'lenet300100', pruner: 'random/igq', type: 'effective', compression: 100, seed: 0 };

function rejects(trial: object, message: RegExp): void {
  assert.throws(
    () => resolveTrial(parseTrial(trial)),
    (error: unknown) =>
      error instanceof InputError && message.test(error.message) && !error.message.includes('\n'),
  );
}

test('a valid trial resolves to its architecture, pruner and sparsity', () => {
  const trial = resolveTrial(parseTrial({ ...base, budget: { epochs: 3 } }));
  assert.equal(trial.arch.name, 'lenet300100');
  assert.equal(trial.arch.dataset, 'mnist');
  assert.equal(trial.pruner.name, 'random/igq');
  assert.equal(trial.sparsity, 0.99);
  assert.equal(trial.spec.scoreBatches, undefined);
  const dense = resolveTrial(parseTrial({ arch: 'vgg19', pruner: 'dense', seed: 1 }));
  assert.equal(dense.sparsity, 0);
  assert.equal(dense.arch.dataset, 'cifar100');
});

test('bad trials are one-line input errors naming the problem', () => {
  rejects({ ...base, arch: 'alexnet' }, /unknown architecture 'alexnet'/);
  rejects({ ...base, pruner: 'magic' }, /unknown pruner 'magic'/);
  rejects({ ...base, sparsity: 0.9 }, /sparsity or compression, not both/);
  rejects({ ...base, compression: 0.5 }, /^trial: compression: must be ≥ 1, got 0\.5$/);
  rejects({ ...base, sparsity: 1.5, compression: undefined }, /^trial: sparsity: must be ≤ 1, got 1\.5$/);
  rejects({ ...base, compression: undefined }, /give sparsity or compression/);
  rejects({ ...base, seed: -1 }, /^trial: seed: must be ≥ 0, got -1$/);
  rejects({ ...base, seed: undefined }, /^trial: seed: is required$/);
  rejects({ ...base, arch: 5 }, /^trial: arch: must be a string, got 5$/);
  rejects({ ...base, type: 'sideways' }, /^trial: type: must be one of direct, effective; got "sideways"$/);
  rejects({ ...base, budget: { epochs: 1, iterations: 5 } }, /^trial: budget: /);
  rejects({ ...base, sparsiti: 0.5 }, /^trial: unknown field\(s\) sparsiti$/);
  rejects({ ...base, dataset: 'imagenet' }, /unknown dataset 'imagenet'/);
  rejects({ arch: 'lenet5', pruner: 'dense', sparsity: 0.5, seed: 0 }, /dense pruner keeps every weight/);
  rejects({ ...base, compression: 1e9 }, /exceeds lenet300100's 266200 prunable weights/);
});

const dir = mkdtempSync(join(tmpdir(), 'esweep-trial-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('magnitude trials without the dense run’s weights fail before any data is loaded', async () => {
  const spec = parseTrial({ ...base, pruner: 'magnitude/global', type: 'direct', compression: 10 });
  const reporter = consoleReporter({
    write: () => assert.fail('nothing is reported before the trial starts'),
  });
  await assert.rejects(runTrial(spec, { reporter }), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /pass --dense-from DIR/);
    return true;
  });
  await assert.rejects(runTrial(spec, { reporter, denseFrom: dir }), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.equal(
      error.message,
      `cannot read weights file ${join(dir, 'lenet300100-mnist-seed0-final.npz')}: no such file`,
    );
    return true;
  });
});
