import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { ARCHITECTURE_NAMES, architecture, isConvolutional } from '../arch/zoo.ts';
import { layerQuotas, QUOTA_NAMES } from './quotas.ts';

const TARGETS = [0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999];

describe('layerwise quotas', () => {
  for (const name of ARCHITECTURE_NAMES) {
    const arch = architecture(name);
    for (const method of QUOTA_NAMES) {
      if (method === 'uniform_plus' && !isConvolutional(name)) continue;
      test(`${method} on ${name}: sparsities in [0,1] with the target as weighted mean (±1 weight)`, () => {
        for (const target of TARGETS) {
          let sparsities: number[];
          try {
            sparsities = layerQuotas(arch, method, target);
          } catch (error) {
            // uniform_plus cannot go past what its dense first layer allows.
            assert.ok(method === 'uniform_plus' && error instanceof InputError, String(error));
            const layers = arch.layers;
            const reachable = arch.totalParams - layers[0].params - 0.2 * layers[layers.length - 1].params;
            assert.ok(target * arch.totalParams > reachable);
            continue;
          }
          assert.equal(sparsities.length, arch.layers.length);
          for (const s of sparsities) assert.ok(s >= 0 && s <= 1, `${s} out of range at ${target}`);
          const removed = sparsities.reduce((sum, s, k) => sum + s * arch.layers[k].params, 0);
          assert.ok(
            Math.abs(removed - target * arch.totalParams) <= 1,
            `${removed} vs ${target * arch.totalParams}`,
          );
        }
      });
    }
  }

  test('igq follows s_l = F·n_l / (1 + F·n_l) for one F', () => {
    const arch = architecture('vgg16');
    const sparsities = layerQuotas(arch, 'igq', 0.98);
    const fs = sparsities.map((s, k) => s / (1 - s) / arch.layers[k].params);
    for (const F of fs) assert.ok(Math.abs(F / fs[0] - 1) < 1e-9);
    // Bigger layers are pruned harder.
    const order = arch.layers.map((l, k) => [l.params, sparsities[k]] as const).sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < order.length; k++) assert.ok(order[k][1] >= order[k - 1][1]);
  });

  test('erk: density ∝ sum/product of dims for the layers it does not make dense', () => {
    const arch = architecture('resnet18');
    const sparsities = layerQuotas(arch, 'erk', 0.9);
    const scales = arch.layers
      .map((layer, k) => (1 - sparsities[k]) / (layer.shape.reduce((a, b) => a + b) / layer.params))
      .filter((_, k) => sparsities[k] > 0);
    for (const scale of scales) assert.ok(Math.abs(scale / scales[0] - 1) < 1e-9);
    // At low sparsity ERK densifies the small layers (the stem).
    assert.equal(layerQuotas(arch, 'erk', 0.5)[0], 0);
  });

  test('uniform_plus: first layer dense, last at most 0.8, the rest equal', () => {
    const arch = architecture('vgg16');
    const s = layerQuotas(arch, 'uniform_plus', 0.95);
    assert.equal(s[0], 0);
    assert.equal(s[s.length - 1], 0.8);
    for (const middle of s.slice(1, -1)) assert.equal(middle, s[1]);
  });

  test('impossible targets are clear input errors', () => {
    assert.throws(
      () => layerQuotas(architecture('lenet300100'), 'uniform_plus', 0.9),
      /convolutional networks only/,
    );
    assert.throws(() => layerQuotas(architecture('lenet5'), 'uniform_plus', 0.999), /cannot reach sparsity/);
    assert.throws(() => layerQuotas(architecture('lenet5'), 'igq', 1.5), /sparsity must lie in \[0, 1\]/);
    assert.throws(() => layerQuotas(architecture('lenet5'), 'magic', 0.5), /unknown quota method 'magic'/);
  });
});
