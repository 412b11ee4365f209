import { type Architecture, GraphBuilder } from '../../arch/graph.ts';
import { Rng } from '../../random.ts';
import type { MaskSet } from '../masks.ts';

/**
 * Small networks exercising every connectivity case (dense chains, padding, strides, pooling,
 * flatten, residual adds with 1×1 shortcuts), for tests that check the analysis against
 * brute force or against gradients.
 */
export const TINY_NETWORKS: Record<string, () => Architecture> = {
  mlp() {
    const g = new GraphBuilder([2, 2, 2]);
    let x = g.flatten(g.inputId);
    x = g.relu(g.dense(x, 'fc1', 7));
    x = g.relu(g.dense(x, 'fc2', 5));
    g.dense(x, 'fc3', 3);
    return g.build({ name: 'mlp', dataset: 'tiny', input: [2, 2, 2], classes: 3 });
  },
  padded() {
    const g = new GraphBuilder([10, 9, 2]);
    let x = g.relu(g.conv(g.inputId, 'conv1', 3, 3));
    x = g.conv(x, 'conv2', 3, 3, { stride: 2 });
    x = g.pool(x, 'avg', 2, 1);
    x = g.conv(x, 'conv3', 2, 3, { padding: 'valid' });
    x = g.flatten(g.conv(g.batchnorm(x), 'conv4', 2, 1));
    g.dense(x, 'fc', 3);
    return g.build({ name: 'padded', dataset: 'tiny', input: [10, 9, 2], classes: 3 });
  },
  residual() {
    const g = new GraphBuilder([5, 5, 2]);
    const stem = g.relu(g.conv(g.inputId, 'stem', 3, 3));
    const main = g.conv(g.relu(g.conv(stem, 'block.conv1', 4, 3, { stride: 2 })), 'block.conv2', 4, 3);
    const shortcut = g.conv(stem, 'block.shortcut', 4, 1, { stride: 2 });
    const sum = g.relu(g.add(main, shortcut));
    const identity = g.add(g.conv(sum, 'block2.conv', 4, 3), sum);
    g.dense(g.globalAvgPool(identity), 'fc', 2);
    return g.build({ name: 'residual', dataset: 'tiny', input: [5, 5, 2], classes: 2 });
  },
};

/** Independent Bernoulli masks with the given keep probability. */
export function bernoulliMasks(arch: Architecture, density: number, seed: number): Uint8Array[] {
  const rng = new Rng(seed);
  return arch.layers.map((layer) =>
    Uint8Array.from({ length: layer.params }, () => (rng.next() < density ? 1 : 0)),
  );
}

export function masksEqual(a: MaskSet, b: MaskSet): boolean {
  return a.length === b.length && a.every((mask, k) => mask.every((v, j) => v === b[k][j]));
}

/** Every weight kept in `a` is kept in `b`. */
export function masksSubset(a: MaskSet, b: MaskSet): boolean {
  return a.every((mask, k) => mask.every((v, j) => v <= b[k][j]));
}
