import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../arch/graph.ts';
import { architecture } from '../arch/zoo.ts';
import { Rng, randomMask } from '../random.ts';
import { analyze, effectiveMasks } from './analysis.ts';
import { countKept, denseMasks } from './masks.ts';
import { bruteForceEffective } from './testing/brute-force.ts';
import { synflowGradientEffective } from './testing/synflow-gradient.ts';
import { bernoulliMasks, masksEqual, masksSubset, TINY_NETWORKS } from './testing/tiny-networks.ts';

await tf.setBackend('cpu');

const DENSITIES = [0.15, 0.3, 0.5, 0.8];

describe('exact effective sparsity pins the definition', () => {
  for (const [name, build] of Object.entries(TINY_NETWORKS)) {
    test(`${name}: equals brute-force path enumeration`, () => {
      const arch = build();
      for (const density of DENSITIES) {
        for (let seed = 1; seed <= 5; seed++) {
          const masks = bernoulliMasks(arch, density, seed);
          const expected = bruteForceEffective(arch, masks);
          assert.ok(
            masksEqual(effectiveMasks(arch, masks, 'exact'), expected),
            `density ${density} seed ${seed}`,
          );
          const counts = analyze(arch, masks).layers.map((l) => l.effective);
          assert.deepEqual(counts, expected.map(countKept));
        }
      }
    });

    test(`${name}: equals the non-zero pattern of the SynFlow-style gradient`, () => {
      const arch = build();
      for (const density of DENSITIES) {
        for (let seed = 1; seed <= 3; seed++) {
          const masks = bernoulliMasks(arch, density, seed);
          assert.ok(masksEqual(effectiveMasks(arch, masks), synflowGradientEffective(arch, masks)));
        }
      }
    });

    test(`${name}: the graph bound is an upper bound, and exact for what it is exact for`, () => {
      const arch = build();
      for (const density of DENSITIES) {
        const masks = bernoulliMasks(arch, density, 7);
        const exact = effectiveMasks(arch, masks, 'exact');
        const graph = effectiveMasks(arch, masks, 'graph');
        assert.ok(masksSubset(exact, graph));
        if (name === 'mlp') assert.ok(masksEqual(exact, graph));
      }
    });
  }

  test('a weight that only ever reads zero padding is inactive, but counted by the graph bound', () => {
    const g = new GraphBuilder([1, 1, 1]);
    g.dense(g.flatten(g.conv(g.inputId, 'conv', 2, 3)), 'fc', 2);
    const arch = g.build({ name: 'pad', dataset: 'tiny', input: [1, 1, 1], classes: 2 });
    const masks = denseMasks(arch);
    const exact = analyze(arch, masks, 'exact');
    const graph = analyze(arch, masks, 'graph');
    // Of each 3×3 kernel only the centre ever sees the single real pixel.
    assert.equal(exact.layers[0].effective, 2);
    assert.deepEqual(Array.from(effectiveMasks(arch, masks)[0].subarray(0, 9)), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert.equal(graph.layers[0].effective, 18);
    assert.equal(exact.layers[1].effective, 4);
  });
});

describe('properties on the real architectures', () => {
  const uniformMasks = (name: string, density: number, seed: number) => {
    const rng = new Rng(seed);
    return architecture(name).layers.map((l) => randomMask(l.params, Math.round(l.params * density), rng));
  };

  for (const name of ['lenet300100', 'lenet5', 'vgg16', 'resnet18']) {
    test(`${name}: effective ≤ direct, and effective(effective(m)) = effective(m)`, () => {
      const arch = architecture(name);
      for (const density of [0.002, 0.02, 0.2]) {
        const masks = uniformMasks(name, density, 3);
        const report = analyze(arch, masks);
        for (const layer of report.layers) assert.ok(layer.effective <= layer.direct);
        const once = effectiveMasks(arch, masks);
        assert.deepEqual(
          once.map(countKept),
          report.layers.map((l) => l.effective),
        );
        assert.ok(masksEqual(effectiveMasks(arch, once), once));
        assert.ok(masksSubset(once, masks));
      }
    });
  }

  for (const name of ['lenet300100', 'lenet5', 'vgg16']) {
    test(`${name}: pruning any whole layer makes everything inactive`, () => {
      const arch = architecture(name);
      for (let cut = 0; cut < arch.layers.length; cut++) {
        const masks = denseMasks(arch);
        masks[cut].fill(0);
        for (const method of ['exact', 'graph'] as const)
          assert.equal(analyze(arch, masks, method).effective, 0);
      }
    });
  }

  test('resnet18: the stem or the classifier cuts everything; a residual branch only itself', () => {
    const arch = architecture('resnet18');
    for (const cut of ['conv1', 'fc']) {
      const masks = denseMasks(arch);
      masks[arch.layers.findIndex((l) => l.name === cut)].fill(0);
      assert.equal(analyze(arch, masks).effective, 0);
    }
    const masks = denseMasks(arch);
    masks[arch.layers.findIndex((l) => l.name === 'layer3.1.conv1')].fill(0);
    const report = analyze(arch, masks);
    for (const layer of report.layers) {
      const expected = layer.name.startsWith('layer3.1.conv') ? 0 : layer.params;
      assert.equal(layer.effective, expected, layer.name);
    }
  });

  test('dense VGG-19: effective = direct, every figure finite', () => {
    const report = analyze(architecture('vgg19'), denseMasks(architecture('vgg19')));
    assert.equal(report.total, 20_070_080);
    assert.equal(report.effective, report.total);
    for (const layer of report.layers) assert.equal(layer.effective, layer.params);
    for (const value of [
      report.directSparsity,
      report.effectiveSparsity,
      report.directCompression,
      report.effectiveCompression,
    ]) {
      assert.ok(Number.isFinite(value));
    }
    assert.equal(report.effectiveCompression, 1);
  });

  test('lenet300100: random uniform masks at direct compression 100 disconnect most survivors (the paper)', () => {
    const arch = architecture('lenet300100');
    const ratios = [1, 2, 3].map((seed) => {
      const report = analyze(arch, uniformMasks('lenet300100', 0.01, seed));
      assert.ok(Math.abs(report.directCompression - 100) < 1);
      return report.effectiveCompression / report.directCompression;
    });
    // The paper reports effective compressions in the hundreds to thousands here.
    assert.ok(Math.min(...ratios) > 3, `effective/direct compression ratios ${ratios.join(', ')}`);
  });

  test('nothing left gives compression ∞', () => {
    const arch = architecture('lenet300100');
    const masks = denseMasks(arch).map((m) => m.fill(0));
    const report = analyze(arch, masks);
    assert.equal(report.effectiveCompression, Number.POSITIVE_INFINITY);
    assert.equal(report.effectiveSparsity, 1);
  });
});
