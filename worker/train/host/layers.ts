/**
 * The layers of the host training step, one strategy per graph node kind: matMuls run on the
 * backend (the floor's own kernels), everything elementwise in JS loops over host memory with
 * float64 sums. Each layer keeps what its backward pass needs from the last forward pass.
 */
import * as tf from '@tensorflow/tfjs';
import { type Architecture, type BatchNormNode, type GraphNode, inputsOf } from '../../arch/graph.ts';
import { type BatchNormState, BN_EPSILON, type Model, runningStatsUpdate } from '../../model/model.ts';
import { readValues } from '../../tf/host-values.ts';
import type { HostLayer, ParameterGradients } from './layer.ts';
import type { KeptRows } from './sparse-dense.ts';
import { SparseDenseLayer } from './sparse-dense.ts';
import { columnSums, sized, Values } from './values.ts';

/** y = x·W (+ b); dW = xᵀ·dy and dx = dy·Wᵀ with explicit transposes, as worker/tf/ops does them. */
class DenseLayer implements HostLayer {
  private input: tf.Tensor2D | null = null;
  private output = new Float32Array(0);

  constructor(
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | undefined,
    private readonly first: boolean,
  ) {}

  forward(x: Values): Values {
    this.input = x.tensor();
    const product = tf.matMul<tf.Tensor2D>(this.input, this.kernel as tf.Tensor2D);
    if (!this.bias) return Values.tensor(product);
    const [rows, cols] = product.shape;
    const p = readValues(product);
    const b = readValues(this.bias);
    const y = sized(this.output, p.length);
    this.output = y;
    for (let i = 0; i < p.length; i += cols) for (let c = 0; c < cols; c++) y[i + c] = p[i + c] + b[c];
    return Values.host(y, rows, cols);
  }

  backward(dy: Values, grads: ParameterGradients): Values | null {
    if (this.bias) grads.set(this.bias, columnSums(dy.read(), dy.cols));
    const g = dy.tensor();
    grads.set(this.kernel, tf.matMul(tf.transpose(this.input as tf.Tensor2D), g));
    return this.first ? null : Values.tensor(tf.matMul(g, tf.transpose(this.kernel as tf.Tensor2D)));
  }
}

/**
 * Batch norm on batch statistics (training-ops' `batchNormTraining` on the host), optionally with
 * the ReLU that follows it folded in: one pass each way over the values instead of several.
 * With x̂ = (x − μ)/√(σ² + ε), M rows and dy the gradient after the ReLU's mask,
 * dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/√(σ² + ε)·(dy − dβ/M − x̂·dγ/M).
 * The running statistics absorb each pass's, as in a tape training step.
 */
class BatchNormLayer implements HostLayer {
  /** The last forward pass's input, read again by the backward pass instead of storing x̂. */
  private input: Values | null = null;
  private mean = new Float64Array(0);
  /** 1/√(σ² + ε) per channel. */
  private invStd = new Float64Array(0);
  /** γ/√(σ² + ε) per channel. */
  private scale = new Float64Array(0);
  private output = new Float32Array(0);
  private inputGradient = new Float32Array(0);

  constructor(
    private readonly state: BatchNormState,
    private readonly relu: boolean,
  ) {}

  forward(x: Values): Values {
    const { rows, cols } = x;
    const v = x.read();
    // Float64 sums of x and x², so E[x²] − E[x]² keeps float32's precision.
    const mean = new Float64Array(cols);
    const variance = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      let squares = 0;
      for (let i = c; i < v.length; i += cols) {
        sum += v[i];
        squares += v[i] * v[i];
      }
      mean[c] = sum;
      variance[c] = squares;
    }
    const gamma = readValues(this.state.gamma);
    const beta = readValues(this.state.beta);
    const invStd = new Float64Array(cols);
    const scale = new Float64Array(cols);
    const shift = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      mean[c] /= rows;
      variance[c] = Math.max(variance[c] / rows - mean[c] * mean[c], 0);
      invStd[c] = 1 / Math.sqrt(variance[c] + BN_EPSILON);
      scale[c] = gamma[c] * invStd[c];
      shift[c] = beta[c] - scale[c] * mean[c];
    }
    const y = sized(this.output, v.length);
    this.input = x;
    this.mean = mean;
    this.invStd = invStd;
    this.scale = scale;
    this.output = y;
    // Branch-free: a ReLU's sign test on random signs mispredicts half the time (4× the pass).
    const positive = this.relu ? 0.5 : 0;
    const linear = this.relu ? 0.5 : 1;
    for (let c = 0; c < cols; c++) {
      const a = scale[c];
      const b = shift[c];
      for (let i = c; i < v.length; i += cols) {
        const out = v[i] * a + b;
        // relu(t) = (t + |t|)/2, exactly.
        y[i] = linear * out + positive * Math.abs(out);
      }
    }
    this.absorb(mean, variance, rows);
    return Values.host(y, rows, cols);
  }

  private absorb(mean: Float64Array, variance: Float64Array, count: number): void {
    const { keep, meanWeight, varianceWeight } = runningStatsUpdate(count);
    const runningMean = readValues(this.state.mean);
    const runningVariance = readValues(this.state.variance);
    const nextMean = runningMean.map((m, c) => keep * m + meanWeight * mean[c]);
    const nextVariance = runningVariance.map((s, c) => keep * s + varianceWeight * variance[c]);
    this.state.mean.assign(tf.tensor1d(nextMean));
    this.state.variance.assign(tf.tensor1d(nextVariance));
  }

  /** With x̂ = (x − μ)·s (s = 1/√(σ² + ε)): dγ = s·(Σ g·x − μ·Σ g), and dx = γs·g − b·x + c per channel. */
  backward(dy: Values, grads: ParameterGradients): Values {
    const { rows, cols } = dy;
    const d = dy.read();
    const x = (this.input as Values).read();
    const { mean, invStd, scale, relu } = this;
    // The gradient through the ReLU, g, into dx's buffer: d where the output is positive, else 0.
    // Branch-free: the output is +0 or positive, so its bits b are 0 or not, and (b | −b) >>> 31
    // is 1 exactly when b ≠ 0. Without the ReLU every gate is open.
    const g = sized(this.inputGradient, d.length);
    this.inputGradient = g;
    const bits = new Int32Array(this.output.buffer, this.output.byteOffset, this.output.length);
    const closed = relu ? 0 : 1;
    const dBeta = new Float64Array(cols);
    const gx = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      let product = 0;
      for (let i = c; i < d.length; i += cols) {
        const b = bits[i];
        const gi = d[i] * (((b | -b) >>> 31) | closed);
        g[i] = gi;
        sum += gi;
        product += gi * x[i];
      }
      dBeta[c] = sum;
      gx[c] = product;
    }
    const dGamma = new Float64Array(cols);
    // dx = γs·(g − dβ/M − x̂·dγ/M) = scale·g − slope·x + intercept.
    const slope = new Float64Array(cols);
    const intercept = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      dGamma[c] = invStd[c] * (gx[c] - mean[c] * dBeta[c]);
      slope[c] = (scale[c] * dGamma[c] * invStd[c]) / rows;
      intercept[c] = slope[c] * mean[c] - (scale[c] * dBeta[c]) / rows;
    }
    for (let c = 0; c < cols; c++) {
      const a = scale[c];
      const b = slope[c];
      const e = intercept[c];
      for (let i = c; i < g.length; i += cols) g[i] = a * g[i] - b * x[i] + e;
    }
    grads.set(this.state.gamma, Float32Array.from(dGamma));
    grads.set(this.state.beta, Float32Array.from(dBeta));
    return Values.host(g, rows, cols);
  }
}

class ReluLayer implements HostLayer {
  private output = new Float32Array(0);
  private inputGradient = new Float32Array(0);

  forward(x: Values): Values {
    const v = x.read();
    const y = sized(this.output, v.length);
    this.output = y;
    for (let i = 0; i < v.length; i++) y[i] = Math.max(v[i], 0);
    return Values.host(y, x.rows, x.cols);
  }

  backward(dy: Values): Values {
    const d = dy.read();
    const y = this.output;
    const dx = sized(this.inputGradient, d.length);
    this.inputGradient = dx;
    for (let i = 0; i < d.length; i++) dx[i] = y[i] > 0 ? d[i] : 0;
    return Values.host(dx, dy.rows, dy.cols);
  }
}

/** Values are `[rows, features]` already, features in NHWC order: keras' flatten order. */
const FLATTEN: HostLayer = { forward: (x) => x, backward: (dy) => dy };

/** Batch norm and the ReLU after it, as one layer. */
export function batchNormRelu(node: BatchNormNode, model: Model): HostLayer {
  return new BatchNormLayer(model.norm(node.id), true);
}

/** Whether `node` reads a ReLU's output (batch norm and ReLU fold into one layer, which gates the same way). */
export function readsRelu(arch: Architecture, node: GraphNode): boolean {
  return inputsOf(node).every((i) => arch.nodes[i].kind === 'relu');
}

/** Per kernel, the kept positions of a layer computed sparsely, or null for the dense kernels. */
export type SparseKernels = readonly (KeptRows | null)[];

type LayerFactories = {
  [K in GraphNode['kind']]?: (
    node: Extract<GraphNode, { kind: K }>,
    model: Model,
    sparse: SparseKernels,
  ) => HostLayer;
};

/** The node kinds the host step can train, and how. */
export const HOST_LAYERS: LayerFactories = {
  flatten: () => FLATTEN,
  dense: (node, model, sparse) => {
    const k = model.kernelIndexOf(node.id);
    const kept = sparse[k];
    const [kernel, bias] = [model.kernels[k], model.biases.get(node.id)];
    if (!kept) return new DenseLayer(kernel, bias, k === 0);
    return new SparseDenseLayer(kernel, bias, k === 0, kept, readsRelu(model.arch, node));
  },
  batchnorm: (node, model) => new BatchNormLayer(model.norm(node.id), false),
  relu: () => new ReluLayer(),
};
