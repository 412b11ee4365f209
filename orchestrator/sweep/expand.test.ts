import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { parseTrial, resolveTrial } from '../../worker/trial/spec.ts';
import { expandSweep } from './expand.ts';
import { canonicalJson, trialKey } from './keys.ts';
import { parseSweepYaml } from './spec.ts';

const expand = (yaml: string, options = {}) =>
  expandSweep(parseSweepYaml(yaml, 'test.yaml'), options, 'test.yaml');

function rejects(yaml: string, pattern: RegExp, options = {}) {
  assert.throws(
    () => expand(yaml, options),
    (error: unknown) => error instanceof InputError && pattern.test(error.message),
  );
}

const BASE = `
name: lenet-small
architectures: [lenet300100]
pruners: [random/igq, magnitude/global, lamp]
types: [direct, effective]
compressions: [10, 100]
seeds: [0, 1]
budget: {iterations: 50}
`;

describe('sweep expansion', () => {
  test('is the cartesian product plus one dense trial per architecture and seed', () => {
    const plan = expand(BASE);
    // 3 pruners × 2 types × 2 compressions × 2 seeds, and dense for seeds 0 and 1.
    assert.equal(plan.trials.length, 3 * 2 * 2 * 2 + 2);
    assert.equal(new Set(plan.trials.map((t) => t.key)).size, plan.trials.length);
    const dense = plan.trials.filter((t) => t.spec.pruner === 'dense');
    assert.deepEqual(
      dense.map((t) => t.spec),
      [0, 1].map((seed) => ({
        arch: 'lenet300100',
        dataset: 'mnist',
        pruner: 'dense',
        type: 'direct',
        sparsity: 0,
        seed,
        budget: { iterations: 50 },
      })),
    );
    for (const trial of plan.trials) {
      const { pruner, seed } = trial.spec;
      if (pruner === 'magnitude/global' || pruner === 'lamp') {
        assert.equal(trial.dependsOn, dense[seed].key, `${pruner} seed ${seed} waits for its dense trial`);
      } else {
        assert.equal(trial.dependsOn, null);
      }
    }
    const one = plan.trials.find(
      (t) => t.spec.pruner === 'random/igq' && t.spec.type === 'effective' && t.spec.seed === 1,
    )!;
    assert.deepEqual(one.spec, {
      arch: 'lenet300100',
      dataset: 'mnist',
      pruner: 'random/igq',
      type: 'effective',
      compression: 10,
      seed: 1,
      budget: { iterations: 50 },
    });
    assert.equal(one.targetCompression, 10);
    assert.equal(one.targetSparsity, 0.9);
  });

  test('every planned trial is a TrialSpec the worker reads back unchanged', () => {
    const plan = expand(
      BASE.replace('compressions: [10, 100]', 'compressions: {from: 10, to: 1000, points: 3}'),
    );
    for (const trial of plan.trials) {
      const read = parseTrial(JSON.parse(JSON.stringify(trial.spec)), trial.key);
      assert.deepEqual(read, trial.spec);
      assert.equal(resolveTrial(read).sparsity, trial.targetSparsity);
    }
  });

  test('keys hash the normalized parameters: stable, order-free, and new only for new trials', () => {
    const first = expand(BASE);
    const again = expand(
      BASE.replace('seeds: [0, 1]', 'seeds: 2').replace('[direct, effective]', '[direct, effective, direct]'),
    );
    assert.deepEqual(
      again.trials.map((t) => t.key),
      first.trials.map((t) => t.key),
    );
    const key = first.trials[0].key;
    assert.match(key, /^[0-9a-f]{16}$/);
    assert.equal(key, trialKey(first.trials[0].spec));
    // Recorded sweeps find their trials again only while the keys of the same trials stay put.
    assert.equal(key, 'eaac1deb4d8f986e');
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');

    const edited = expand(BASE.replace('compressions: [10, 100]', 'compressions: [10, 100, 1000]'));
    const old = new Set(first.trials.map((t) => t.key));
    const added = edited.trials.filter((t) => !old.has(t.key));
    assert.equal(added.length, 3 * 2 * 2);
    assert.ok(added.every((t) => 'compression' in t.spec && t.spec.compression === 1000));

    const otherBudget = expand(BASE.replace('iterations: 50', 'iterations: 60'));
    assert.ok(
      otherBudget.trials.every((t) => !old.has(t.key)),
      'the budget is part of a trial',
    );
  });

  test('log-spaced compressions include both ends and match hand-typed values', () => {
    const plan = expand(
      BASE.replace('compressions: [10, 100]', 'compressions: {from: 10, to: 100, points: 3}'),
    );
    const typed = expand(BASE.replace('compressions: [10, 100]', 'compressions: [10, 31.6227766, 100]'));
    assert.deepEqual(
      plan.trials.map((t) => t.key),
      typed.trials.map((t) => t.key),
    );
  });

  test('dense trials are added only when asked for or needed; sparsities set the target', () => {
    const plan = expand(`
name: conv
architectures: [lenet5, vgg16]
pruners: [random/uniform_plus]
sparsities: [0.5, 0.9]
dataset: {vgg16: cifar100}
resources: {gpu: 2, memory: 16Gi}
`);
    assert.equal(plan.trials.length, 4);
    assert.ok(plan.trials.every((t) => t.spec.pruner !== 'dense' && t.dependsOn === null));
    assert.deepEqual(
      plan.trials.map((t) => [t.spec.arch, t.spec.dataset, t.spec.type]),
      [
        ['lenet5', 'cifar10', 'direct'],
        ['lenet5', 'cifar10', 'direct'],
        ['vgg16', 'cifar100', 'direct'],
        ['vgg16', 'cifar100', 'direct'],
      ],
    );
    assert.equal(plan.trials[1].targetCompression, 10);
    assert.equal(plan.spec.resources.memory, '16Gi');
    const denseOnly = expand('name: d\narchitectures: [lenet5]\npruners: [dense]\nseeds: 3');
    assert.equal(denseOnly.trials.length, 3);
  });

  test('bad sweeps are refused with the field and the value', () => {
    rejects(
      BASE.replace('random/igq', 'random/igqq'),
      /^test\.yaml: pruners\[0\]: unknown pruner 'random\/igqq'/,
    );
    rejects(
      BASE.replace('[lenet300100]', '[lenet301]'),
      /architectures\[0\]: unknown architecture 'lenet301'/,
    );
    rejects(
      BASE.replace('compressions: [10, 100]', 'sparsities: [0.5, 1]'),
      /sparsities\[1\]: .*\[0, 1\), got 1$/,
    );
    rejects(BASE.replace('compressions: [10, 100]', 'sparsities: [-0.1]'), /sparsities\[0\]: .*got -0\.1$/);
    rejects(BASE.replace('[10, 100]', '[10, 0.5]'), /compressions\[1\]: a compression must be ≥ 1, got 0\.5/);
    rejects(
      BASE.replace('random/igq', 'random/uniform_plus'),
      /pruners\[0\]: 'random\/uniform_plus' .*'lenet300100'/,
    );
    rejects(BASE.replace('seeds: [0, 1]', 'seeds: []'), /seeds: .*empty grid/);
    rejects(BASE.replace('compressions: [10, 100]', ''), /compressions: is required/);
    rejects(`${BASE}sparsities: [0.5]\n`, /compressions: give compressions or sparsities, not both/);
    rejects(`${BASE}colour: blue\n`, /unknown field\(s\) colour/);
    rejects(BASE.replace('name: lenet-small', 'name: "a b"'), /name: .*got "a b"/);
    rejects(`${BASE}resources: {memory: lots}\n`, /resources\.memory: not a resource quantity: "lots"/);
    // The worker's budget schema, so the same messages as a trial file.
    rejects(
      BASE.replace('{iterations: 50}', '{epochs: 0}'),
      /^test\.yaml: budget\.epochs: must be > 0, got 0$/,
    );
    rejects(
      BASE.replace('{iterations: 50}', '{iterations: 2.5}'),
      /^test\.yaml: budget\.iterations: must be a whole number, got 2\.5$/,
    );
    rejects(
      BASE.replace('{iterations: 50}', '{steps: 50}'),
      /^test\.yaml: budget: must be \{epochs: N\} or \{iterations: N\}, got \{"steps":50\}$/,
    );
    rejects(
      `${BASE}dataset: {lenet5: cifar10}\n`,
      /dataset\.lenet5: 'lenet5' is not one of the sweep's architectures/,
    );
    rejects('name: [', /not valid YAML/);
  });

  test('a grid above the limit needs force', () => {
    const big = BASE.replace('compressions: [10, 100]', 'compressions: {from: 2, to: 1000, points: 500}');
    // 3 × 2 × 500 × 2 + 2 = 6,002 trials.
    rejects(big, /expands to 6,002 trials, above the limit of 5,000; pass --force/, { limit: 5000 });
    assert.equal(expand(big, { limit: 5000, force: true }).trials.length, 6002);
  });
});
