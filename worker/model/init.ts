import type { Architecture, PrunableLayer } from '../arch/graph.ts';
import { Rng } from '../random.ts';

/** Standard deviation correction of a normal truncated at ±2σ (TF's VarianceScaling constant). */
const TRUNCATION_STD = 0.8796256610342398;

function fans(layer: PrunableLayer): { fanIn: number; fanOut: number } {
  const [out, inputs, kh = 1, kw = 1] = layer.shape;
  return { fanIn: inputs * kh * kw, fanOut: out * kh * kw };
}

/**
 * The reference's initialization: variance scaling with fan_avg, scale 2, (truncated) normal —
 * σ = √(2 / ((fan_in + fan_out)/2)) — drawn from the trial's seed; torch layout, one per layer.
 */
export function initialWeights(arch: Architecture, seed: number): Float32Array[] {
  const rng = Rng.derive(seed, 'initial-weights');
  return arch.layers.map((layer) => {
    const { fanIn, fanOut } = fans(layer);
    const std = Math.sqrt(2 / ((fanIn + fanOut) / 2)) / TRUNCATION_STD;
    const weights = new Float32Array(layer.params);
    for (let k = 0; k < weights.length; k++) {
      let z = rng.normal();
      while (Math.abs(z) > 2) z = rng.normal();
      weights[k] = z * std;
    }
    return weights;
  });
}
