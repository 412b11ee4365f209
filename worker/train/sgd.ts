/**
 * SGD with momentum and weight decay, torch semantics (torch.optim.SGD, dampening 0, not Nesterov):
 *   g ← ∇ + wd·p;  v ← μ·v + g;  p ← p − lr·v
 * applied to every trainable parameter (kernels, biases, batch norm scales and shifts). A velocity
 * that starts at zero gives v = g on the first step, exactly torch's buffer initialisation. After
 * the update each masked kernel is multiplied by its 0/1 mask, so pruned weights are exactly zero
 * after every step.
 *
 * Two implementations of the same update: where tensors live in host memory (wasm, cpu), one fused
 * loop per parameter over its kept weights only (a pruned weight's velocity never reaches a kept
 * weight, so skipping it changes nothing observable); elsewhere (tfjs-node, GPUs), tensor ops, so
 * the weights never leave the device. Every update assigns a fresh tensor, never changing weights
 * in place: wasm caches its matMul operators per weight tensor. docs/performance.md has the costs.
 */
import * as tf from '@tensorflow/tfjs';
import { hostMemoryBackend, readValues } from '../tf/host-values.ts';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export interface Optimizer {
  /** One update; `grads[i]` is the loss gradient of parameter i. */
  step(grads: readonly tf.Tensor[], learningRate: number): void;
  dispose(): void;
}

export type SgdKind = 'host' | 'tensor';

/** The implementation that is fastest on the active backend. */
export function defaultSgdKind(): SgdKind {
  return hostMemoryBackend() ? 'host' : 'tensor';
}

/** A parameter's gradient for the host update: a tensor, or values already on the host. */
export type HostGradient = tf.Tensor | Float32Array;

/**
 * `masks[i]` (shaped like `params[i]`, 0/1) is re-applied to parameter i after every step; null or
 * a missing entry leaves it unmasked (dense layers, biases, batch norm). The caller keeps
 * ownership of the mask tensors.
 */
export function maskedSgd(
  params: readonly tf.Variable[],
  masks: readonly (tf.Tensor | null)[],
  options: SgdOptions,
  kind: SgdKind = defaultSgdKind(),
): Optimizer {
  return kind === 'host' ? new HostSgd(params, masks, options) : new TensorSgd(params, masks, options);
}

export class HostSgd implements Optimizer {
  /** Per parameter, the velocity of its kept weights only, in the order of `kept`. */
  private readonly velocity: Float32Array[];
  /** Per masked parameter, the flat indices of its kept weights; null = every weight is kept. */
  private readonly kept: (Int32Array | null)[];
  /**
   * Per parameter, two host arrays that take its new values in turn. A fresh zeroed array per
   * step costs more than the update itself (a 235k-weight kernel is 940 KB); pruned positions
   * are never written, so they stay zero. The cpu backend keeps the array it is given (wasm copies
   * it): the one written now belongs to the tensor that the previous step's update replaced.
   */
  private readonly buffers: [Float32Array, Float32Array][];
  private turn = 0;

  constructor(
    private readonly params: readonly tf.Variable[],
    masks: readonly (tf.Tensor | null)[],
    private readonly options: SgdOptions,
  ) {
    this.kept = params.map((_, i) => (masks[i] ? keptIndices(masks[i].dataSync()) : null));
    this.velocity = params.map((p, i) => new Float32Array(this.kept[i]?.length ?? p.size));
    this.buffers = params.map((p) => [new Float32Array(p.size), new Float32Array(p.size)]);
  }

  step(grads: readonly HostGradient[], learningRate: number): void {
    const { momentum, weightDecay } = this.options;
    this.turn ^= 1;
    this.params.forEach((param, i) => {
      // Read per parameter: the previous one's new tensor may have moved the wasm heap.
      const grad = grads[i];
      const p = readValues(param);
      const g = grad instanceof Float32Array ? grad : readValues(grad);
      const v = this.velocity[i];
      const kept = this.kept[i];
      const next = this.buffers[i][this.turn];
      if (kept) updateKept(p, g, v, next, kept, learningRate, momentum, weightDecay);
      else updateAll(p, g, v, next, learningRate, momentum, weightDecay);
      tf.tidy(() => param.assign(tf.tensor(next, param.shape)));
    });
  }

  dispose(): void {}
}

function updateKept(
  p: Float32Array,
  g: Float32Array,
  v: Float32Array,
  next: Float32Array,
  kept: Int32Array,
  lr: number,
  momentum: number,
  wd: number,
): void {
  for (let j = 0; j < kept.length; j++) {
    const k = kept[j];
    const vj = momentum * v[j] + g[k] + wd * p[k];
    v[j] = vj;
    next[k] = p[k] - lr * vj;
  }
}

function updateAll(
  p: Float32Array,
  g: Float32Array,
  v: Float32Array,
  next: Float32Array,
  lr: number,
  momentum: number,
  wd: number,
): void {
  for (let k = 0; k < p.length; k++) {
    const vk = momentum * v[k] + g[k] + wd * p[k];
    v[k] = vk;
    next[k] = p[k] - lr * vk;
  }
}

function keptIndices(mask: ArrayLike<number>): Int32Array {
  let count = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k] !== 0) count++;
  const indices = new Int32Array(count);
  let j = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k] !== 0) indices[j++] = k;
  return indices;
}

class TensorSgd implements Optimizer {
  private readonly velocity: tf.Variable[];
  private readonly momentum: tf.Scalar;
  private readonly weightDecay: tf.Scalar;
  private rate: { value: number; tensor: tf.Scalar } | null = null;

  constructor(
    private readonly params: readonly tf.Variable[],
    private readonly masks: readonly (tf.Tensor | null)[],
    options: SgdOptions,
  ) {
    this.velocity = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.momentum = tf.scalar(options.momentum);
    this.weightDecay = tf.scalar(options.weightDecay);
  }

  /** The learning rate as a tensor, rebuilt only when the schedule changes it. */
  private learningRate(value: number): tf.Scalar {
    if (this.rate?.value !== value) {
      this.rate?.tensor.dispose();
      // Kept: steps run inside the caller's tidy, which would dispose it after the first one.
      this.rate = { value, tensor: tf.keep(tf.scalar(value)) };
    }
    return this.rate.tensor;
  }

  step(grads: readonly tf.Tensor[], learningRate: number): void {
    const lr = this.learningRate(learningRate);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = tf.add(grads[i], tf.mul(p, this.weightDecay));
        const v = tf.add(tf.mul(this.velocity[i], this.momentum), g);
        this.velocity[i].assign(v);
        const updated = tf.sub(p, tf.mul(v, lr));
        const mask = this.masks[i];
        p.assign(mask ? tf.mul(updated, mask) : updated);
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.velocity, this.momentum, this.weightDecay]);
    this.rate?.tensor.dispose();
  }
}
