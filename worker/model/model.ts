import * as tf from '@tensorflow/tfjs';
import type { Architecture, BatchNormNode, GraphNode, PrunableNode } from '../arch/graph.ts';
import { fromTorch, LAYOUTS, toTorch } from '../arch/layout.ts';
import { conv2d, dense } from '../tf/ops.ts';
import { batchNormTraining, softmaxCrossEntropy } from './training-ops.ts';

/** tfjs keeps kernels in the keras layout: dense (in, out), conv (kh, kw, in, out). */
const TF_LAYOUT = LAYOUTS.keras;

export const BN_EPSILON = 1e-5;
/** Weight of the newest batch in the running statistics (torch's momentum 0.1). */
const BN_MOMENTUM = 0.1;

export interface BatchNormState {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

export type ForwardMode =
  /** Batch norm on batch statistics (data-driven pruning, as the reference does); nothing updated. */
  | 'train'
  /** A training step: batch norm on batch statistics, which the running statistics then absorb. */
  | 'trainStep'
  /** Batch norm on running statistics. */
  | 'eval'
  /** SynFlow's linearised network: |kernels| only; no batch norm, activations or biases. */
  | 'linear';

/**
 * A network built from the shared architecture graph: one tfjs variable per prunable kernel, per
 * bias and per batch norm parameter, and one forward pass that walks the same nodes the sparsity
 * analysis walks.
 */
export class Model {
  readonly kernels: tf.Variable[];
  readonly biases = new Map<number, tf.Variable>();
  private readonly norms = new Map<number, BatchNormState>();
  private readonly kernelIndex = new Map<number, number>();

  constructor(
    readonly arch: Architecture,
    initial: readonly Float32Array[],
  ) {
    // A variable shares its initial tensor's data and takes a reference of its own: the tidy
    // disposes the initial tensors, so disposing the variables frees the memory.
    this.kernels = tf.tidy(() =>
      arch.layers.map((layer, k) => {
        this.kernelIndex.set(layer.node.id, k);
        return tf.variable(tf.tensor(fromTorch(TF_LAYOUT, layer, initial[k]), TF_LAYOUT.shape(layer)), true);
      }),
    );
    tf.tidy(() => {
      for (const node of arch.nodes) {
        if (node.kind === 'dense' && node.bias)
          this.biases.set(node.id, tf.variable(tf.zeros([node.outFeatures]), true));
        if (node.kind === 'batchnorm') {
          const channels = node.shape[0];
          this.norms.set(node.id, {
            gamma: tf.variable(tf.ones([channels]), true),
            beta: tf.variable(tf.zeros([channels]), true),
            mean: tf.variable(tf.zeros([channels]), false),
            variance: tf.variable(tf.ones([channels]), false),
          });
        }
      }
    });
  }

  /** Every trainable variable: kernels first (in layer order), then biases and batch norm scales. */
  get trainable(): tf.Variable[] {
    return [
      ...this.kernels,
      ...this.biases.values(),
      ...[...this.norms.values()].flatMap((n) => [n.gamma, n.beta]),
    ];
  }

  /** The position in `kernels` of a prunable node's kernel. */
  kernelIndexOf(nodeId: number): number {
    const k = this.kernelIndex.get(nodeId);
    if (k === undefined) throw new Error(`node ${nodeId} is not a prunable layer`);
    return k;
  }

  /** The batch norm variables of a batch norm node. */
  norm(nodeId: number): BatchNormState {
    const state = this.norms.get(nodeId);
    if (!state) throw new Error(`node ${nodeId} is not a batch norm`);
    return state;
  }

  /** The kernels in torch layout. */
  weights(): Float32Array[] {
    return this.kernelsToTorch(this.kernels);
  }

  /** Kernel-shaped tensors (e.g. their gradients), one per layer, in torch layout. */
  kernelsToTorch(tensors: readonly tf.Tensor[]): Float32Array[] {
    return this.arch.layers.map((layer, k) =>
      toTorch(TF_LAYOUT, layer, tensors[k].dataSync() as Float32Array),
    );
  }

  setWeights(weights: readonly Float32Array[]): void {
    this.arch.layers.forEach((layer, k) => {
      // assign() takes its own reference; the tidy releases the temporary tensor's.
      tf.tidy(() =>
        this.kernels[k].assign(tf.tensor(fromTorch(TF_LAYOUT, layer, weights[k]), TF_LAYOUT.shape(layer))),
      );
    });
  }

  /** A torch-layout mask as a tensor shaped like layer k's kernel. */
  maskTensor(k: number, mask: Uint8Array): tf.Tensor {
    const layer = this.arch.layers[k];
    return tf.tensor(fromTorch(TF_LAYOUT, layer, Float32Array.from(mask)), TF_LAYOUT.shape(layer));
  }

  /**
   * Logits for a batch `x` (NHWC). `kernels` overrides the variables (e.g. masked or perturbed
   * copies); gradients flow to whatever tensors are used.
   */
  forward(x: tf.Tensor4D, mode: ForwardMode, kernels: readonly tf.Tensor[] = this.kernels): tf.Tensor2D {
    const values: tf.Tensor[] = [];
    const linear = mode === 'linear';
    for (const node of this.arch.nodes) values.push(this.apply(node, values, x, mode, kernels, linear));
    return values[values.length - 1] as tf.Tensor2D;
  }

  private apply(
    node: GraphNode,
    values: tf.Tensor[],
    x: tf.Tensor4D,
    mode: ForwardMode,
    kernels: readonly tf.Tensor[],
    linear: boolean,
  ): tf.Tensor {
    switch (node.kind) {
      case 'input':
        return x;
      case 'conv':
      case 'dense':
        return this.layer(
          node,
          values[node.input],
          kernels[this.kernelIndexOf(node.id)],
          linear,
          node === this.arch.layers[0].node,
        );
      case 'batchnorm':
        return linear ? values[node.input] : this.batchNorm(node, values[node.input], mode);
      case 'relu':
        return linear ? values[node.input] : tf.relu(values[node.input]);
      case 'pool': {
        const input = values[node.input] as tf.Tensor4D;
        return node.op === 'max'
          ? tf.maxPool(input, node.size, node.stride, 'valid')
          : tf.avgPool(input, node.size, node.stride, 'valid');
      }
      case 'globalAvgPool':
        return tf.mean(values[node.input], [1, 2]);
      case 'flatten':
        return tf.reshape(values[node.input], [values[node.input].shape[0], -1]);
      case 'add':
        return tf.add(values[node.inputs[0]], values[node.inputs[1]]);
    }
  }

  private layer(
    node: PrunableNode,
    input: tf.Tensor,
    kernel: tf.Tensor,
    linear: boolean,
    first: boolean,
  ): tf.Tensor {
    const w = linear ? tf.abs(kernel) : kernel;
    // The first layer reads data: its input gradient would be computed and thrown away.
    const options = { inputGrad: !first };
    let y: tf.Tensor;
    if (node.kind === 'conv') {
      y = conv2d(input as tf.Tensor4D, w as tf.Tensor4D, node.stride, node.padding, options);
    } else {
      const flat = input.rank === 2 ? input : tf.reshape(input, [input.shape[0], -1]);
      y = dense(flat as tf.Tensor2D, w as tf.Tensor2D, options);
      const bias = this.biases.get(node.id);
      if (bias && !linear) y = tf.add(y, bias);
    }
    return linear ? scaledToUnitMax(y) : y;
  }

  private batchNorm(node: BatchNormNode, input: tf.Tensor, mode: ForwardMode): tf.Tensor {
    const state = this.norms.get(node.id)!;
    if (mode === 'eval')
      return tf.batchNorm(input, state.mean, state.variance, state.beta, state.gamma, BN_EPSILON);
    const absorb =
      mode === 'trainStep'
        ? (mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) =>
            absorbBatchStats(state, mean, variance, count)
        : undefined;
    return batchNormTraining(
      input,
      state.gamma as tf.Tensor1D,
      state.beta as tf.Tensor1D,
      BN_EPSILON,
      absorb,
    );
  }

  dispose(): void {
    for (const v of [
      ...this.kernels,
      ...this.biases.values(),
      ...[...this.norms.values()].flatMap((n) => Object.values(n)),
    ])
      v.dispose();
  }
}

/**
 * How one batch's statistics (from `count` values per channel, variance biased) fold into the
 * running ones, as torch does: running ← keep·running + weight·batch, exponential averaging with
 * momentum 0.1 and the variance unbiased (×n/(n−1)) for the running estimate.
 */
export function runningStatsUpdate(count: number): {
  keep: number;
  meanWeight: number;
  varianceWeight: number;
} {
  const unbiased = count > 1 ? count / (count - 1) : 1;
  return { keep: 1 - BN_MOMENTUM, meanWeight: BN_MOMENTUM, varianceWeight: BN_MOMENTUM * unbiased };
}

function absorbBatchStats(
  state: BatchNormState,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  count: number,
): void {
  const { keep, meanWeight, varianceWeight } = runningStatsUpdate(count);
  tf.tidy(() => {
    state.mean.assign(tf.add(tf.mul(state.mean, keep), tf.mul(mean, meanWeight)));
    state.variance.assign(tf.add(tf.mul(state.variance, keep), tf.mul(variance, varianceWeight)));
  });
}

/**
 * Divides by the current maximum, taken as a constant: the linearised network's outputs grow by a
 * large factor per layer and overflow float32 in deep nets; constant rescaling multiplies the
 * output and every gradient by one common positive factor, which no ranking of scores can see.
 */
function scaledToUnitMax(y: tf.Tensor): tf.Tensor {
  const max = tf.max(y).dataSync()[0];
  return max > 0 ? tf.div(y, max) : y;
}

/** Mean softmax cross-entropy of logits (divided by `temperature`) against integer labels. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature = 1): tf.Scalar {
  return softmaxCrossEntropy(temperature === 1 ? logits : tf.div(logits, temperature), labels);
}
