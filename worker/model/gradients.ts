import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../common/errors.ts';
import type { Architecture } from '../arch/graph.ts';
import { type Batch, batches, type Dataset } from '../data/index.ts';
import { batchTensors } from './batch-tensors.ts';
import { crossEntropy, Model } from './model.ts';

/**
 * The network computations pruners need (worker/pruners/pruner.ts), implemented below on the tfjs
 * model. Weights go in and gradients come out in torch layout, one array per prunable layer.
 */
export interface NetworkGradients {
  /**
   * ∂R/∂w for R = Σ outputs of the linearised network (|w|, no batch norm, activations or biases)
   * on an all-ones input, up to one common positive factor (it is normalised to stay finite).
   */
  pathGradient(weights: readonly Float32Array[]): Promise<Float32Array[]>;
  /** Whether training data is at hand for the two below. */
  readonly hasData: boolean;
  /** ∂L/∂w averaged over `batches` training batches (batch norm in training mode). */
  lossGradient(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
  /** H·g: the loss Hessian times the loss gradient, over `batches` batches (GraSP). */
  hessianGradientProduct(weights: readonly Float32Array[], batches: number): Promise<Float32Array[]>;
}

export interface GradientOptions {
  /** Training data for SNIP/GraSP; without it only the data-free path gradient works. */
  dataset?: Dataset;
  batchSize?: number;
  /** Fixes which training examples the scores see (the same batches on every call). */
  seed?: number;
  /** Logits are divided by this in GraSP's loss (the official implementation uses 200). */
  graspTemperature?: number;
}

/**
 * Relative size of the finite-difference step for H·g: the weights move by this fraction of their
 * norm along ĝ. Large enough that float32 gradient noise (~1e-7 relative) stays far below the
 * difference; small enough not to cross ReLU kinks, so the result is the Hessian of the current
 * linear region, which is what double backpropagation gives (measured against a float64 reference
 * on a tiny network: 6e-5 relative error here, 1.7 at a step of 5e-3).
 */
const HVP_STEP = 1e-3;

function norm(arrays: readonly Float32Array[]): number {
  let sum = 0;
  for (const a of arrays) for (let k = 0; k < a.length; k++) sum += a[k] * a[k];
  return Math.sqrt(sum);
}

/**
 * The pruners' view of the network (worker/pruners/pruner.ts), on one tfjs model whose kernels are
 * overwritten by the weights each call asks about. Batch norm runs in training mode, as the
 * reference computes SNIP and GraSP.
 */
export function modelGradients(
  arch: Architecture,
  options: GradientOptions = {},
): NetworkGradients & { dispose(): void } {
  const { dataset, batchSize = 128, seed = 0 } = options;
  const temperature = options.graspTemperature ?? 200;
  let model: Model | undefined;
  const modelWith = (weights: readonly Float32Array[]) => {
    model ??= new Model(arch, weights);
    model.setWeights(weights);
    return model;
  };

  const gradientsOf = (m: Model, loss: () => tf.Scalar): Float32Array[] => {
    const { value, grads } = tf.variableGrads(loss, m.kernels);
    value.dispose();
    const torch = m.kernelsToTorch(m.kernels.map((kernel) => grads[kernel.name]));
    for (const g of Object.values(grads)) g.dispose();
    return torch;
  };

  const fixedBatches = (count: number): Batch[] => {
    if (!dataset) throw new InputError('this pruner needs training data');
    const out: Batch[] = [];
    for (const batch of batches(dataset, 'train', {
      batchSize,
      shuffle: { seed, epoch: 0 },
      dropLast: true,
    })) {
      if (out.length === count) break;
      out.push(batch);
    }
    return out;
  };

  const meanLossGradient = async (weights: readonly Float32Array[], count: number, temp: number) => {
    const m = modelWith(weights);
    const sums = arch.layers.map((layer) => new Float32Array(layer.params));
    const list = fixedBatches(count);
    for (const batch of list) {
      const { x, y } = batchTensors(arch.input, batch);
      const grads = gradientsOf(m, () => crossEntropy(m.forward(x, 'train'), y, temp));
      tf.dispose([x, y]);
      grads.forEach((g, k) => {
        for (let j = 0; j < g.length; j++) sums[k][j] += g[j];
      });
    }
    for (const sum of sums) for (let j = 0; j < sum.length; j++) sum[j] /= list.length;
    return sums;
  };

  return {
    hasData: dataset !== undefined,

    async pathGradient(weights) {
      const m = modelWith(weights);
      const ones = tf.ones([1, ...arch.input]) as tf.Tensor4D;
      const grads = gradientsOf(m, () => tf.sum(m.forward(ones, 'linear')));
      ones.dispose();
      return grads;
    },

    lossGradient: (weights, count) => meanLossGradient(weights, count, 1),

    /** Central differences of gradients along ĝ (tfjs has no second-order gradients through our custom ops). */
    async hessianGradientProduct(weights, count) {
      const g = await meanLossGradient(weights, count, temperature);
      const gNorm = norm(g);
      if (gNorm === 0) return g;
      const step = (HVP_STEP * Math.max(norm(weights), 1e-12)) / gNorm;
      const moved = (sign: 1 | -1) =>
        weights.map((w, k) => {
          const out = new Float32Array(w.length);
          for (let j = 0; j < w.length; j++) out[j] = w[j] + sign * step * g[k][j];
          return out;
        });
      const plus = await meanLossGradient(moved(1), count, temperature);
      const minus = await meanLossGradient(moved(-1), count, temperature);
      return plus.map((p, k) => {
        for (let j = 0; j < p.length; j++) p[j] = (p[j] - minus[k][j]) / (2 * step);
        return p;
      });
    },

    dispose() {
      model?.dispose();
    },
  };
}
