import { InputError } from '../../common/errors.ts';
import type { Architecture } from '../arch/graph.ts';
import { isConvolutional } from '../arch/zoo.ts';

/**
 * A layerwise quota: how sparse each prunable layer should be for a global sparsity target.
 * Every method returns one sparsity per layer (aligned with `arch.layers`), each in [0, 1], whose
 * parameter-weighted mean is the target.
 */
export interface QuotaMethod {
  readonly name: QuotaName;
  sparsities(arch: Architecture, sparsity: number): number[];
}

export const QUOTA_NAMES = ['uniform', 'erk', 'igq', 'uniform_plus'] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];

/** Solves the monotone increasing `f(x) = target` on [lo, hi] to machine precision. */
function bisect(f: (x: number) => number, target: number, lo: number, hi: number): number {
  for (let step = 0; step < 200 && hi - lo > Number.EPSILON * Math.max(1, hi); step++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const uniform: QuotaMethod = {
  name: 'uniform',
  sparsities: (arch, sparsity) => arch.layers.map(() => sparsity),
};

/**
 * Erdős–Rényi-Kernel: density ∝ (sum of the weight shape's dims) / (their product), scaled to the
 * budget; layers that would exceed density 1 are made dense and the rest rescaled.
 */
const erk: QuotaMethod = {
  name: 'erk',
  sparsities(arch, sparsity) {
    const ratios = arch.layers.map(
      (layer) => layer.shape.reduce((a, b) => a + b, 0) / layer.shape.reduce((a, b) => a * b, 1),
    );
    const dense = new Set<number>();
    const budget = (1 - sparsity) * arch.totalParams;
    for (;;) {
      let free = budget;
      let weight = 0;
      arch.layers.forEach((layer, k) => {
        if (dense.has(k)) free -= layer.params;
        else weight += ratios[k] * layer.params;
      });
      const scale = weight > 0 ? free / weight : 0;
      const overflowing = arch.layers.findIndex((_, k) => !dense.has(k) && scale * ratios[k] > 1);
      if (overflowing < 0) return ratios.map((ratio, k) => (dense.has(k) ? 0 : 1 - scale * ratio));
      // Densify the layer that overflows most first, then rescale the others.
      let worst = overflowing;
      ratios.forEach((ratio, k) => {
        if (!dense.has(k) && ratio > ratios[worst]) worst = k;
      });
      dense.add(worst);
    }
  },
};

/** Ideal gas quotas: s_l = F·n_l / (1 + F·n_l), F > 0 chosen so the total matches the target. */
const igq: QuotaMethod = {
  name: 'igq',
  sparsities(arch, sparsity) {
    const sizes = arch.layers.map((layer) => layer.params);
    if (sparsity === 0) return sizes.map(() => 0);
    if (sparsity === 1) return sizes.map(() => 1);
    const layerSparsity = (F: number, n: number) => (F * n) / (1 + F * n);
    const removed = (F: number) => sizes.reduce((sum, n) => sum + layerSparsity(F, n) * n, 0);
    let hi = 1;
    while (removed(hi) < sparsity * arch.totalParams) hi *= 2;
    const F = bisect(removed, sparsity * arch.totalParams, 0, hi);
    return sizes.map((n) => layerSparsity(F, n));
  },
};

/** First layer dense, last layer at most 80% sparse, the layers between share the rest uniformly. */
const uniformPlus: QuotaMethod = {
  name: 'uniform_plus',
  sparsities(arch, sparsity) {
    if (!isConvolutional(arch.name)) {
      throw new InputError(`uniform_plus applies to convolutional networks only, not ${arch.name}`);
    }
    const layers = arch.layers;
    const first = layers[0].params;
    const last = layers[layers.length - 1].params;
    const middle = arch.totalParams - first - last;
    const removed = sparsity * arch.totalParams;
    let shared = removed / (middle + last);
    let lastSparsity = shared;
    if (shared > 0.8) {
      lastSparsity = 0.8;
      shared = (removed - 0.8 * last) / middle;
    }
    if (shared > 1 + 1e-12) {
      const max = (middle + 0.8 * last) / arch.totalParams;
      throw new InputError(
        `uniform_plus cannot reach sparsity ${sparsity} on ${arch.name} (at most ${max.toFixed(6)})`,
      );
    }
    return layers.map((_, k) => (k === 0 ? 0 : k === layers.length - 1 ? lastSparsity : Math.min(1, shared)));
  },
};

const METHODS: Record<QuotaName, QuotaMethod> = { uniform, erk, igq, uniform_plus: uniformPlus };

export function quotaMethod(name: string): QuotaMethod {
  if (!(QUOTA_NAMES as readonly string[]).includes(name)) {
    throw new InputError(`unknown quota method '${name}' (expected one of ${QUOTA_NAMES.join(', ')})`);
  }
  return METHODS[name as QuotaName];
}

export function checkSparsity(sparsity: number): number {
  if (!Number.isFinite(sparsity) || sparsity < 0 || sparsity > 1) {
    throw new InputError(`sparsity must lie in [0, 1], got ${sparsity}`);
  }
  return sparsity;
}

/** Per-layer sparsities of `method` for the global target. */
export function layerQuotas(arch: Architecture, method: string, sparsity: number): number[] {
  return quotaMethod(method).sparsities(arch, checkSparsity(sparsity));
}
