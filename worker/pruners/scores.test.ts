import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { GraphBuilder } from '../arch/graph.ts';
import { architecture } from '../arch/zoo.ts';
import { batches } from '../data/index.ts';
import { modelGradients } from '../model/gradients.ts';
import { initialWeights } from '../model/init.ts';
import { Rng } from '../random.ts';
import { selectBackend } from '../tf/backend.ts';
import { graspScores, snipScores, synflowScores } from './gradient-pruners.ts';
import type { PruneContext } from './pruner.ts';
import { rankDescending, topKMasks } from './ranking.ts';
import { lampScores } from './scores.ts';
import { randomDataset } from './testing.ts';

/** max |a − b| / max |b| over all layers. */
function relativeError(a: readonly Float32Array[], b: readonly ArrayLike<number>[]): number {
  let diff = 0;
  let scale = 0;
  a.forEach((x, k) => {
    for (let j = 0; j < x.length; j++) {
      diff = Math.max(diff, Math.abs(x[j] - b[k][j]));
      scale = Math.max(scale, Math.abs(b[k][j]));
    }
  });
  return diff / scale;
}

describe('score correctness', () => {
  before(() => selectBackend('cpu'));

  // A tiny MLP (no batch norm): logits = relu(x·W1ᵀ)·W2ᵀ (+ a zero bias).
  const g = new GraphBuilder([2, 2, 1]);
  g.dense(g.relu(g.dense(g.flatten(g.inputId), 'fc1', 5)), 'fc2', 3, { bias: true });
  const arch = g.build({ name: 'tiny', dataset: 'mnist', input: [2, 2, 1], classes: 3 });
  const dataset = randomDataset(arch, 8, 3);
  const batch = batches(dataset, 'train', {
    batchSize: 8,
    shuffle: { seed: 5, epoch: 0 },
    dropLast: true,
  }).next().value!;
  const rng = new Rng(9);
  const weights = arch.layers.map((l) => Float32Array.from({ length: l.params }, () => rng.normal()));
  const ctx = (): PruneContext => ({
    arch,
    seed: 5,
    initialWeights: weights,
    network: modelGradients(arch, { dataset, batchSize: 8, seed: 5 }),
    scoreBatches: 1,
  });

  /** The mean cross-entropy in float64, written out by hand. */
  const loss = (w: readonly Float64Array[], temperature: number) => {
    let total = 0;
    for (let n = 0; n < batch.size; n++) {
      const x = batch.images.subarray(n * 4, n * 4 + 4);
      const hidden = Array.from({ length: 5 }, (_, o) =>
        Math.max(
          0,
          [0, 1, 2, 3].reduce((s, i) => s + w[0][o * 4 + i] * x[i], 0),
        ),
      );
      const logits = [0, 1, 2].map(
        (o) => hidden.reduce((s, h, i) => s + w[1][o * 5 + i] * h, 0) / temperature,
      );
      const max = Math.max(...logits);
      const logSum = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
      total += logSum - logits[batch.labels[n]];
    }
    return total / batch.size;
  };
  const gradient = (w: readonly Float64Array[], temperature: number) =>
    w.map((layer, k) =>
      layer.map((_, j) => {
        const at = (delta: number) =>
          loss(
            w.map((l, kk) => (kk === k ? l.map((v, jj) => (jj === j ? v + delta : v)) : l)),
            temperature,
          );
        return (at(1e-6) - at(-1e-6)) / 2e-6;
      }),
    );
  const w64 = weights.map((w) => Float64Array.from(w));

  test('SNIP scores |g ⊙ w| match a finite-difference reference', async () => {
    const grad = gradient(w64, 1);
    const expected = grad.map((gk, k) => gk.map((v, j) => Math.abs(v * w64[k][j])));
    const error = relativeError(await snipScores(ctx(), weights), expected);
    assert.ok(error < 1e-3, `relative error ${error}`);
  });

  test('GraSP scores w ⊙ Hg (temperature 200) match a finite-difference reference', async () => {
    const T = 200;
    const grad = gradient(w64, T);
    const gNorm = Math.sqrt(grad.reduce((s, l) => s + l.reduce((t, v) => t + v * v, 0), 0));
    const eps = 1e-3 / gNorm;
    const shifted = (sign: number) =>
      gradient(
        w64.map((l, k) => l.map((v, j) => v + sign * eps * grad[k][j])),
        T,
      );
    const plus = shifted(1);
    const minus = shifted(-1);
    const expected = w64.map((l, k) => l.map((v, j) => (v * (plus[k][j] - minus[k][j])) / (2 * eps)));
    const error = relativeError(await graspScores(ctx(), weights), expected);
    assert.ok(error < 1e-3, `relative error ${error}`);
  });

  test('SynFlow scores are invariant to scaling one layer by c and the next by 1/c', async () => {
    const lenet = architecture('lenet300100');
    const w = initialWeights(lenet, 4);
    const scaled = w.map((layer, k) => layer.map((v) => (k === 1 ? v * 8 : k === 2 ? v / 8 : v)));
    const ctxOf = (): PruneContext => ({
      arch: lenet,
      seed: 4,
      initialWeights: w,
      network: modelGradients(lenet),
      scoreBatches: 1,
    });
    const a = await synflowScores(ctxOf(), w);
    const b = await synflowScores(ctxOf(), scaled);
    assert.ok(relativeError(b, a) < 1e-4, `relative error ${relativeError(b, a)}`);
    // Magnitudes alone are not invariant: the test would notice if the path gradient were ignored.
    assert.ok(relativeError(scaled, w) > 1);
  });
});

describe('shared top-k and LAMP', () => {
  test('rankDescending matches a comparison sort (ties by index, negatives, zeros)', () => {
    const rng = new Rng(1);
    const scores = Float32Array.from({ length: 5000 }, (_, k) =>
      k % 7 === 0 ? 0 : k % 11 === 0 ? -rng.next() : Math.round(rng.next() * 100) / 10,
    );
    const expected = [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);
    assert.deepEqual([...rankDescending(scores)], expected);
  });

  test('topKMasks keeps exactly the first k of the ranking across layers', () => {
    const rng = new Rng(2);
    const layers = [300, 1, 4000].map((n) =>
      Float32Array.from({ length: n }, () => Math.round(rng.next() * 50)),
    );
    const all = new Float32Array(layers.reduce((s, l) => s + l.length, 0));
    let offset = 0;
    for (const l of layers) {
      all.set(l, offset);
      offset += l.length;
    }
    const order = rankDescending(all);
    for (const k of [0, 1, 1234, all.length]) {
      const flat = topKMasks(layers, k).flatMap((m) => [...m]);
      const expected = new Array(all.length).fill(0);
      for (let r = 0; r < k; r++) expected[order[r]] = 1;
      assert.deepEqual(flat, expected);
    }
  });

  test('LAMP score = w² / Σ of w² over the weights at least as large in the layer', () => {
    const rng = new Rng(3);
    const w = Float32Array.from({ length: 200 }, () => rng.normal());
    const [scores] = lampScores([w]);
    for (let u = 0; u < w.length; u++) {
      const mass = [...w]
        .filter((v, j) => v * v > w[u] * w[u] || (v * v === w[u] * w[u] && j <= u))
        .reduce((s, v) => s + v * v, 0);
      assert.ok(Math.abs(scores[u] - (w[u] * w[u]) / mass) < 1e-6);
    }
  });
});
