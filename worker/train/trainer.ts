/**
 * One training step of a masked model: forward in training mode, cross-entropy, gradients of every
 * trainable variable, the running batch-norm statistics, and the masked SGD update. The loss stays
 * on the device and is read in bulk (`drainLoss`), so a GPU is never synchronised per step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, Dataset } from '../data/index.ts';
import { crossEntropy, type Model } from '../model/model.ts';
import { countKept, type MaskSet } from '../sparsity/masks.ts';
import { maskedSgd, type Optimizer, type SgdKind, type SgdOptions } from './sgd.ts';
import { batchTensors } from './tensors.ts';

export class Trainer {
  private readonly params: tf.Variable[];
  /** Null for layers that keep every weight (nothing to re-apply). */
  private readonly masks: (tf.Tensor | null)[];
  private readonly optimizer: Optimizer;
  private readonly lossSum = tf.tidy(() => tf.variable(tf.scalar(0), false));
  private pendingSteps = 0;

  constructor(
    private readonly model: Model,
    masks: MaskSet,
    private readonly dataset: Dataset,
    options: SgdOptions,
    sgdKind?: SgdKind,
  ) {
    this.masks = model.arch.layers.map((layer, k) =>
      countKept(masks[k]) === layer.params ? null : model.maskTensor(k, masks[k]),
    );
    // Pruned weights are zero from the start, not just after the first step.
    this.masks.forEach((mask, k) => {
      if (mask) tf.tidy(() => model.kernels[k].assign(tf.mul(model.kernels[k], mask)));
    });
    // `trainable` lists the kernels first, in layer order, so masks[k] belongs to params[k].
    this.params = model.trainable;
    this.optimizer = maskedSgd(this.params, this.masks, options, sgdKind);
  }

  step(batch: Batch, learningRate: number): void {
    tf.tidy(() => {
      const { x, y } = batchTensors(this.dataset, batch);
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(this.model.forward(x, 'trainStep').logits, y),
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

  /** The summed loss and count of the steps since the last call. */
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
