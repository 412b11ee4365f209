/**
 * Training steps of a masked model: forward in training mode, cross-entropy, gradients of every
 * trainable variable, the running batch-norm statistics, and the masked SGD update. Two
 * implementations of the same step:
 * - `tape`: tfjs' gradient tape over `Model.forward`, for every network on every backend. The loss
 *   stays on the device and is read in bulk (`drainLoss`), so a GPU is never synchronised per step;
 * - `host` (worker/train/host): on host-memory backends, for chains of dense, batch norm and ReLU
 *   layers, backward by hand with the elementwise work in JS loops and sparse kernels for masked
 *   dense layers of low density; `host-dense` is the same step with every layer on the dense
 *   kernels (the reference the sparse kernels are measured against).
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/index.ts';
import { batchTensors } from '../model/batch-tensors.ts';
import { crossEntropy, type Model } from '../model/model.ts';
import { countKept, type MaskSet } from '../sparsity/masks.ts';
import { hostMemoryBackend } from '../tf/host-values.ts';
import { hostTrainable } from './host/network.ts';
import { HostTrainer } from './host/trainer.ts';
import { maskedSgd, type Optimizer, type SgdOptions } from './sgd.ts';
import type { StepTrainer } from './step.ts';

export type StepKind = 'tape' | 'host' | 'host-dense';

/** The fastest step for this model on the active backend. */
export function defaultStepKind(model: Model): StepKind {
  return hostMemoryBackend() && hostTrainable(model.arch) ? 'host' : 'tape';
}

/**
 * A trainer for `model` with `masks` applied: pruned weights are zeroed now, not just after the
 * first step, and stay zero after every step.
 */
export function createTrainer(
  model: Model,
  masks: MaskSet,
  options: SgdOptions,
  kind: StepKind = defaultStepKind(model),
): StepTrainer {
  // Null for layers that keep every weight (nothing to re-apply).
  const maskTensors = model.arch.layers.map((layer, k) =>
    countKept(masks[k]) === layer.params ? null : model.maskTensor(k, masks[k]),
  );
  maskTensors.forEach((mask, k) => {
    if (mask) tf.tidy(() => model.kernels[k].assign(tf.mul(model.kernels[k], mask)));
  });
  if (kind === 'tape') return new TapeTrainer(model, maskTensors, options);
  return new HostTrainer(model, maskTensors, options, kind === 'host' ? undefined : () => false);
}

class TapeTrainer implements StepTrainer {
  private readonly params: tf.Variable[];
  private readonly optimizer: Optimizer;
  private readonly lossSum = tf.tidy(() => tf.variable(tf.scalar(0), false));
  private pendingSteps = 0;

  constructor(
    private readonly model: Model,
    private readonly masks: readonly (tf.Tensor | null)[],
    options: SgdOptions,
  ) {
    // `trainable` lists the kernels first, in layer order, so masks[k] belongs to params[k].
    this.params = model.trainable;
    this.optimizer = maskedSgd(this.params, masks, options);
  }

  step(batch: Batch, learningRate: number): void {
    tf.tidy(() => {
      const { x, y } = batchTensors(this.model.arch.input, batch);
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(this.model.forward(x, 'trainStep'), y),
        this.params,
      );
      this.optimizer.step(
        this.params.map((p) => grads[p.name]),
        learningRate,
      );
      this.lossSum.assign(tf.add(this.lossSum, value));
    });
    this.pendingSteps++;
  }

  async drainLoss(): Promise<{ sum: number; steps: number }> {
    const [sum] = await this.lossSum.data();
    const steps = this.pendingSteps;
    tf.tidy(() => this.lossSum.assign(tf.zerosLike(this.lossSum)));
    this.pendingSteps = 0;
    return { sum, steps };
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose([this.lossSum, ...this.masks.filter((m) => m !== null)]);
  }
}
