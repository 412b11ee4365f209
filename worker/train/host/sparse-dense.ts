/**
 * A masked dense layer computed over its kept weights only. The kernel `[in, out]` (x·W) is held
 * as compressed rows: per input, the outputs it feeds and their weights. Every product walks the
 * batch row by row (one row of x, y, dy and dx is a few KB, in L1) and, per input, its kept
 * weights:
 *   forward    y[r,o] += x[r,i]·w              (skipped where x[r,i] = 0)
 *   backward   dW[i,o] += x[r,i]·dy[r,o]       (skipped where x[r,i] = 0)
 *              dx[r,i] = Σ w·dy[r,o]
 * so a step costs a few multiply-adds per kept weight and batch row, and nothing per pruned one;
 * inputs that are exactly zero (background pixels, ReLU outputs) cost nothing in the first two.
 * The structure is built once from the mask (masks do not change during training); the weights
 * are read from the model's variable at every forward pass, so the variable stays the source of
 * truth. The weight gradient is a kernel-sized array written at kept positions only: the host SGD
 * reads nothing else. Outputs are summed in float32, as the dense matMul sums them; the weight
 * gradients over the batch in float64.
 */
import type * as tf from '@tensorflow/tfjs';
import { readValues } from '../../tf/host-values.ts';
import type { HostLayer, ParameterGradients } from './layer.ts';
import { columnSums, sized, Values } from './values.ts';

/** The kept positions of a `[inputs, outputs]` kernel, grouped by input (CSR). */
export interface KeptRows {
  readonly inputs: number;
  readonly outputs: number;
  /** Kept weights of input i: positions `start[i]` to `start[i + 1]` of `output`. */
  readonly start: Int32Array;
  /** The inputs with at least one kept weight, ascending: no other input reaches the output. */
  readonly active: Int32Array;
  /** Each kept weight's output; its flat index in the kernel is i·outputs + output. */
  readonly output: Int32Array;
}

/** The kept positions of `mask`, a 0/1 kernel in `[inputs, outputs]` order. */
export function keptRows(mask: ArrayLike<number>, inputs: number, outputs: number): KeptRows {
  const start = new Int32Array(inputs + 1);
  let count = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k] !== 0) count++;
  const output = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < inputs; i++) {
    for (let o = 0; o < outputs; o++) if (mask[i * outputs + o] !== 0) output[j++] = o;
    start[i + 1] = j;
  }
  const active = Int32Array.from({ length: inputs }, (_, i) => i).filter((i) => start[i + 1] > start[i]);
  return { inputs, outputs, start, active, output };
}

export class SparseDenseLayer implements HostLayer {
  /** The kept weights as of the last forward pass, in the order of `kept`. */
  private readonly weights: Float32Array;
  /** The kept weights' gradients, summed over the batch. */
  private readonly sums: Float64Array;
  private readonly gradient: Float32Array;
  private input: Float32Array = new Float32Array(0);
  /** Per batch row, the active inputs that were not zero in the last forward pass: rows of `active.length`. */
  private nonzero = new Int32Array(0);
  private nonzeroCount = new Int32Array(0);
  private output = new Float32Array(0);
  private inputGradient = new Float32Array(0);

  constructor(
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | undefined,
    private readonly first: boolean,
    private readonly kept: KeptRows,
  ) {
    this.weights = new Float32Array(kept.output.length);
    this.sums = new Float64Array(kept.output.length);
    this.gradient = new Float32Array(kept.inputs * kept.outputs);
  }

  forward(x: Values): Values {
    const { inputs, outputs, start, active, output } = this.kept;
    const { rows } = x;
    const v = x.stable();
    this.input = v;
    const w = this.weights;
    const kernel = readValues(this.kernel);
    for (let i = 0; i < inputs; i++)
      for (let j = start[i]; j < start[i + 1]; j++) w[j] = kernel[i * outputs + output[j]];
    const b = this.bias ? readValues(this.bias).slice() : new Float32Array(outputs);
    const y = sized(this.output, rows * outputs);
    this.output = y;
    const width = active.length;
    if (this.nonzero.length !== rows * width) {
      this.nonzero = new Int32Array(rows * width);
      this.nonzeroCount = new Int32Array(rows);
    }
    const { nonzero, nonzeroCount } = this;
    for (let r = 0; r < rows; r++) {
      const at = r * inputs;
      const to = r * outputs;
      let count = r * width;
      y.set(b, to);
      for (let a = 0; a < width; a++) {
        const i = active[a];
        const xi = v[at + i];
        if (xi === 0) continue;
        nonzero[count++] = i;
        for (let j = start[i]; j < start[i + 1]; j++) y[to + output[j]] += xi * w[j];
      }
      nonzeroCount[r] = count;
    }
    return Values.host(y, rows, outputs);
  }

  backward(dy: Values, grads: ParameterGradients): Values | null {
    const { inputs, outputs, start, active, output } = this.kept;
    const { rows } = dy;
    const d = dy.read();
    const { weights: w, input: x, sums, gradient } = this;
    if (this.bias) grads.set(this.bias, columnSums(d, outputs));
    const dx = this.first ? null : sized(this.inputGradient, rows * inputs);
    const { nonzero, nonzeroCount } = this;
    const width = active.length;
    sums.fill(0);
    for (let r = 0; r < rows; r++) {
      const at = r * inputs;
      const from = r * outputs;
      for (let n = r * width; n < nonzeroCount[r]; n++) {
        const i = nonzero[n];
        const xi = x[at + i];
        for (let j = start[i]; j < start[i + 1]; j++) sums[j] += xi * d[from + output[j]];
      }
      // Inactive inputs' gradients are zero: never written, so zero since the buffer was made.
      if (dx)
        for (let a = 0; a < width; a++) {
          const i = active[a];
          let sum = 0;
          for (let j = start[i]; j < start[i + 1]; j++) sum += w[j] * d[from + output[j]];
          dx[at + i] = sum;
        }
    }
    for (let i = 0; i < inputs; i++)
      for (let j = start[i]; j < start[i + 1]; j++) gradient[i * outputs + output[j]] = sums[j];
    grads.set(this.kernel, gradient);
    if (!dx) return null;
    this.inputGradient = dx;
    return Values.host(dx, rows, inputs);
  }
}
