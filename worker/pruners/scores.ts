import type { Architecture } from '../arch/graph.ts';
import { Rng } from '../random.ts';
import { rankDescending } from './ranking.ts';

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
 * larger in its layer (ties: lower index counts as larger); then one global top-k.
 */
export function lampScores(weights: readonly Float32Array[]): Float32Array[] {
  return weights.map((w) => {
    const squares = new Float32Array(w.length);
    for (let k = 0; k < w.length; k++) squares[k] = w[k] * w[k];
    const scores = new Float32Array(w.length);
    let mass = 0;
    // Largest first: the running sum is the mass of each weight and everything larger.
    for (const index of rankDescending(squares)) {
      mass += squares[index];
      scores[index] = mass > 0 ? squares[index] / mass : 0;
    }
    return scores;
  });
}
