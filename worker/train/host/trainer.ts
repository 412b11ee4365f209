import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../../data/index.ts';
import type { Model } from '../../model/model.ts';
import { HostSgd, type SgdOptions } from '../sgd.ts';
import type { StepTrainer } from '../step.ts';
import { costModel, type SparseChoice, sparseKernels } from './dispatch.ts';
import { assertHostTrainable, HostNetwork } from './network.ts';
import { visitedShare } from './sparse-dense.ts';

/**
 * Training steps on a host-memory backend (wasm, cpu) for networks the host step can train: the
 * gradients of `HostNetwork` straight into the host SGD. The loss is on the host already, so it is
 * summed there. Masked dense layers run on the sparse kernels where the cost model expects them to
 * be cheaper, judged on the first batch's data.
 */
export class HostTrainer implements StepTrainer {
  private network: HostNetwork | null = null;
  private readonly params: tf.Variable[];
  private readonly optimizer: HostSgd;
  private lossSum = 0;
  private pendingSteps = 0;
  /** Per kernel, whether it runs on the sparse kernels; known after the first step. */
  sparseLayers: boolean[] = [];

  /**
   * Takes ownership of `masks` (as `maskedSgd` reads them: per trainable variable, null = none).
   * `choose`: which masked dense layers run sparse; by default the cost model.
   */
  constructor(
    private readonly model: Model,
    private readonly masks: readonly (tf.Tensor | null)[],
    options: SgdOptions,
    private readonly choose?: SparseChoice,
  ) {
    assertHostTrainable(model.arch);
    this.params = model.trainable;
    this.optimizer = new HostSgd(this.params, masks, options);
  }

  private networkFor(batch: Batch): HostNetwork {
    if (this.network) return this.network;
    const choose = this.choose ?? costModel(visitedShare(batch.images, batch.images.length / batch.size));
    const sparse = sparseKernels(this.model, this.masks, choose);
    this.sparseLayers = sparse.map((kept) => kept !== null);
    this.network = new HostNetwork(this.model, sparse);
    return this.network;
  }

  step(batch: Batch, learningRate: number): void {
    const network = this.networkFor(batch);
    tf.tidy(() => {
      const { loss, grads } = network.lossAndGradients(batch);
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
