import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../data/index.ts';
import type { Model } from '../../model/model.ts';
import { HostSgd, type SgdOptions } from '../sgd.ts';
import type { StepTrainer } from '../step.ts';
import { SPARSE_BELOW_DENSITY, sparseKernels } from './dispatch.ts';
import { HostNetwork } from './network.ts';

/**
 * Training steps on a host-memory backend (wasm, cpu) for networks the host step can train: the
 * gradients of `HostNetwork` straight into the host SGD. The loss is on the host already, so it is
 * summed there. Masked dense layers below the density threshold run on the sparse kernels.
 */
export class HostTrainer implements StepTrainer {
  private readonly network: HostNetwork;
  private readonly params: tf.Variable[];
  private readonly optimizer: HostSgd;
  private lossSum = 0;
  private pendingSteps = 0;

  /**
   * Takes ownership of `masks` (as `maskedSgd` reads them: per trainable variable, null = none).
   * `sparseBelow`: the density under which a masked dense layer is computed sparsely (0: never).
   */
  constructor(
    model: Model,
    private readonly masks: readonly (tf.Tensor | null)[],
    options: SgdOptions,
    sparseBelow = SPARSE_BELOW_DENSITY,
  ) {
    this.network = new HostNetwork(model, sparseKernels(model, masks, sparseBelow));
    this.params = model.trainable;
    this.optimizer = new HostSgd(this.params, masks, options);
  }

  step(batch: Batch, learningRate: number): void {
    tf.tidy(() => {
      const { loss, grads } = this.network.lossAndGradients(batch);
      this.optimizer.step(
        this.params.map((p) => {
          const grad = grads.get(p);
          if (!grad) throw new Error(`the host step computed no gradient for ${p.name}`);
          return grad;
        }),
        learningRate,
      );
      this.lossSum += loss;
    });
    this.pendingSteps++;
  }

  async drainLoss(): Promise<{ sum: number; steps: number }> {
    const drained = { sum: this.lossSum, steps: this.pendingSteps };
    this.lossSum = 0;
    this.pendingSteps = 0;
    return drained;
  }

  dispose(): void {
    this.optimizer.dispose();
    tf.dispose(this.masks.filter((m) => m !== null));
  }
}
