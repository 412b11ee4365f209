/**
 * A masked dense layer computed over its kept weights only. The kernel `[in, out]` (x·W) is held
 * as compressed rows: per input, the outputs it feeds and their weights. Every product walks the
 * batch row by row (one row of x, y, dy and dx is a few KB, in L1) and, per input, its kept
 * weights. With c the input value most inputs hold (0 after a ReLU, the background of normalized
 * images; see `commonValue`), and x·w = (x − c)·w + c·w:
 *   forward    y[r,o] = b[o] + c·Σ_i w + Σ_i (x[r,i] − c)·w        (skipped where x[r,i] = c)
 *   backward   dW[i,o] = c·Σ_r dy[r,o] + Σ_r (x[r,i] − c)·dy[r,o]  (skipped where x[r,i] = c)
 *              dx[r,i] = Σ w·dy[r,o]
 * so a step costs a few multiply-adds per kept weight and batch row, and nothing per pruned one;
 * inputs that hold c cost nothing in the first two.
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
  /** Each kept weight's output. */
  readonly output: Int32Array;
  /** Each kept weight's flat index in the kernel, i·outputs + output. */
  readonly flat: Int32Array;
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
  const flat = new Int32Array(count);
  for (let i = 0; i < inputs; i++)
    for (let j = start[i]; j < start[i + 1]; j++) flat[j] = i * outputs + output[j];
  return { inputs, outputs, start, active, output, flat };
}

export class SparseDenseLayer implements HostLayer {
  /** The kept weights as of the last forward pass, in the order of `kept`. */
  private readonly weights: Float32Array;
  /** The kept weights' gradients, summed over the batch. */
  private readonly sums: Float64Array;
  private readonly gradient: Float32Array;
  private input: Float32Array = new Float32Array(0);
  /** Per batch row, the active inputs that did not hold c in the last forward pass: rows of `active.length`. */
  private nonzero = new Int32Array(0);
  /** Per batch row, where its run of `nonzero` ends. */
  private nonzeroEnd = new Int32Array(0);
  private output = new Float32Array(0);
  private inputGradient = new Float32Array(0);
  /** The input value the last forward pass skipped (see `commonValue`). */
  private common = 0;
  /** Per output, b + c·Σ of its kept weights, in float64. */
  private readonly base: Float64Array;

  constructor(
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | undefined,
    private readonly first: boolean,
    private readonly kept: KeptRows,
  ) {
    this.weights = new Float32Array(kept.output.length);
    this.sums = new Float64Array(kept.output.length);
    this.gradient = new Float32Array(kept.inputs * kept.outputs);
    this.base = new Float64Array(kept.outputs);
  }

  forward(x: Values): Values {
    const { inputs, outputs, start, active, output, flat } = this.kept;
    const { rows } = x;
    const v = x.stable();
    this.input = v;
    const w = this.weights;
    gather(readValues(this.kernel), flat, w);
    const c = commonValue(v, inputs);
    this.common = c;
    // Every row starts from b + c·Σw per output: the product of an input that holds c.
    const base = this.base;
    if (this.bias) base.set(readValues(this.bias));
    else base.fill(0);
    if (c !== 0) for (let j = 0; j < w.length; j++) base[output[j]] += c * w[j];
    const y = sized(this.output, rows * outputs);
    this.output = y;
    if (this.nonzero.length !== rows * active.length) {
      this.nonzero = new Int32Array(rows * active.length);
      this.nonzeroEnd = new Int32Array(rows);
    }
    forwardRows(
      v,
      c,
      base,
      y,
      rows,
      inputs,
      outputs,
      active,
      start,
      output,
      w,
      this.nonzero,
      this.nonzeroEnd,
    );
    return Values.host(y, rows, outputs);
  }

  backward(dy: Values, grads: ParameterGradients): Values | null {
    const { inputs, outputs, start, active, output, flat } = this.kept;
    const { rows } = dy;
    const d = dy.read();
    const { weights: w, input: x, sums, gradient } = this;
    if (this.bias) grads.set(this.bias, columnSums(d, outputs));
    const c = this.common;
    // Σ_r x·dy = Σ_r (x − c)·dy + c·Σ_r dy: the inputs that hold c add c·(column sum of dy).
    if (c === 0) sums.fill(0);
    else {
      const columns = columnSums64(d, outputs);
      for (let j = 0; j < sums.length; j++) sums[j] = c * columns[output[j]];
    }
    weightSums(
      x,
      c,
      d,
      rows,
      inputs,
      outputs,
      start,
      output,
      this.nonzero,
      this.nonzeroEnd,
      active.length,
      sums,
    );
    scatter(sums, flat, gradient);
    grads.set(this.kernel, gradient);
    if (this.first) return null;
    // Inactive inputs' gradients are zero: never written, so zero since the buffer was made.
    const dx = sized(this.inputGradient, rows * inputs);
    this.inputGradient = dx;
    inputGradients(d, rows, inputs, outputs, active, start, output, w, dx);
    return Values.host(dx, rows, inputs);
  }
}

// The loops, each in a function of its own: V8 optimizes a small function once its loop is hot,
// with the type feedback of every access in it (measured 2–3× faster than the same loops inline).

function gather(kernel: Float32Array, flat: Int32Array, w: Float32Array): void {
  for (let j = 0; j < flat.length; j++) w[j] = kernel[flat[j]];
}

function scatter(sums: Float64Array, flat: Int32Array, gradient: Float32Array): void {
  for (let j = 0; j < flat.length; j++) gradient[flat[j]] = sums[j];
}

/** y[r] = base + Σ (x[r,i] − c)·w over active inputs i where x[r,i] ≠ c, which it lists per row. */
function forwardRows(
  x: Float32Array,
  c: number,
  base: Float64Array,
  y: Float32Array,
  rows: number,
  inputs: number,
  outputs: number,
  active: Int32Array,
  start: Int32Array,
  output: Int32Array,
  w: Float32Array,
  nonzero: Int32Array,
  nonzeroEnd: Int32Array,
): void {
  const width = active.length;
  for (let r = 0; r < rows; r++) {
    const at = r * inputs;
    const to = r * outputs;
    let count = r * width;
    for (let o = 0; o < outputs; o++) y[to + o] = base[o];
    for (let a = 0; a < width; a++) {
      const i = active[a];
      const xi = x[at + i] - c;
      if (xi === 0) continue;
      nonzero[count++] = i;
      const end = start[i + 1];
      for (let j = start[i]; j < end; j++) y[to + output[j]] += xi * w[j];
    }
    nonzeroEnd[r] = count;
  }
}

/** sums[j] += Σ_r (x[r,i] − c)·dy[r,o] for kept weight j = (i, o), over the inputs listed by the forward pass. */
function weightSums(
  x: Float32Array,
  c: number,
  d: Float32Array,
  rows: number,
  inputs: number,
  outputs: number,
  start: Int32Array,
  output: Int32Array,
  nonzero: Int32Array,
  nonzeroEnd: Int32Array,
  width: number,
  sums: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const at = r * inputs;
    const from = r * outputs;
    const last = nonzeroEnd[r];
    for (let n = r * width; n < last; n++) {
      const i = nonzero[n];
      const xi = x[at + i] - c;
      const end = start[i + 1];
      for (let j = start[i]; j < end; j++) sums[j] += xi * d[from + output[j]];
    }
  }
}

/** dx[r,i] = Σ w·dy[r,o] over the kept weights (i, o) of each active input i. */
function inputGradients(
  d: Float32Array,
  rows: number,
  inputs: number,
  outputs: number,
  active: Int32Array,
  start: Int32Array,
  output: Int32Array,
  w: Float32Array,
  dx: Float32Array,
): void {
  const width = active.length;
  for (let r = 0; r < rows; r++) {
    const at = r * inputs;
    const from = r * outputs;
    for (let a = 0; a < width; a++) {
      const i = active[a];
      let sum = 0;
      const end = start[i + 1];
      for (let j = start[i]; j < end; j++) sum += w[j] * d[from + output[j]];
      dx[at + i] = sum;
    }
  }
}

/**
 * The value the products skip: 0, or the first row's smallest value where more of the row holds
 * it (the background of normalized images, which is not 0). Any value gives the same sums, since
 * x·w = (x − c)·w + c·w; this choice only decides how many inputs are skipped.
 */
export function commonValue(v: Float32Array, inputs: number): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < inputs; i++) min = Math.min(min, v[i]);
  let zeros = 0;
  let mins = 0;
  for (let i = 0; i < inputs; i++) {
    if (v[i] === 0) zeros++;
    else if (v[i] === min) mins++;
  }
  return mins > zeros ? min : 0;
}

/** Per-column sums of a row-major `[rows, cols]` array, in float64. */
function columnSums64(values: Float32Array, cols: number): Float64Array {
  const sums = new Float64Array(cols);
  for (let i = 0; i < values.length; i += cols) for (let c = 0; c < cols; c++) sums[c] += values[i + c];
  return sums;
}
