import type { Architecture } from '../arch/graph.ts';
import { Rng } from '../random.ts';

/** Independent uniform scores: random pruning, and masks nested across targets for the same seed. */
export function randomScores(arch: Architecture, seed: number): Float32Array[] {
  const rng = Rng.derive(seed, 'random-scores');
  return arch.layers.map((layer) => {
    const scores = new Float32Array(layer.params);
    for (let k = 0; k < scores.length; k++) scores[k] = rng.next();
    return scores;
  });
}

export function magnitudeScores(weights: readonly Float32Array[]): Float32Array[] {
  return weights.map((w) => w.map(Math.abs));
}

/**
 * LAMP (Lee et al., 2021): within a layer, with weights sorted by magnitude ascending,
 * score(u) = w_u² / Σ_{v ≥ u} w_v², the squared weight over the mass of itself and everything
 * larger in its layer; then one global top-k.
 */
export function lampScores(weights: readonly Float32Array[]): Float32Array[] {
  return weights.map((w) => {
    const squares = Float64Array.from(w, (v) => v * v);
    const ascending = Uint32Array.from(squares.keys()).sort((a, b) => squares[a] - squares[b] || a - b);
    const scores = new Float32Array(w.length);
    let suffix = 0;
    for (let r = ascending.length - 1; r >= 0; r--) {
      const index = ascending[r];
      suffix += squares[index];
      scores[index] = suffix > 0 ? squares[index] / suffix : 0;
    }
    return scores;
  });
}
