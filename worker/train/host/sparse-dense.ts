/**
 * A masked dense layer computed over its kept weights only. The kernel `[in, out]` (x·W) is held
 * as compressed rows: per input, the outputs it feeds and their weights. Every product walks the
 * batch row by row (one row of x, y, dy and dx is a few KB, in L1) and, per input, its kept
 * weights. With c the input value most inputs hold (0 after a ReLU, the background of normalized
 * images; see `commonValue`), and x·w = (x − c)·w + c·w:
 *   forward    y[r,o] = b[o] + c·Σ_i w + Σ_i (x[r,i] − c)·w        (skipped where x[r,i] = c)
 *   backward   dW[i,o] = c·Σ_r dy[r,o] + Σ_r (x[r,i] − c)·dy[r,o]  (skipped where x[r,i] = c)
 *              dx[r,i] = Σ w·dy[r,o]                              (below a ReLU: where x[r,i] > 0)
 * so a step costs a few multiply-adds per kept weight and batch row, and nothing per pruned one;
 * inputs that hold c cost nothing in the first two. The loops run as WebAssembly (sparse-kernels.ts)
 * over the layer's own memory.
 * The structure is built once from the mask (masks do not change during training); the weights
 * are read from the model's variable at every forward pass, so the variable stays the source of
 * truth. The weight gradient is a kernel-sized array written at kept positions only: the host SGD
 * reads nothing else. Outputs are summed in float32, as the dense matMul sums them; the weight
 * gradients over the batch in float64.
 */
import type * as tf from '@tensorflow/tfjs';
import { readValues } from '../../tf/host-values.ts';
import type { HostLayer, ParameterGradients } from './layer.ts';
import { type Kernels, kernelMemory, type WasmMemory } from './sparse-kernels.ts';
import { columnSums, Values } from './values.ts';

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

/** Bytes taken by `count` elements of `size` bytes, rounded up to 8 (float64 alignment). */
const bytes = (count: number, size: number) => Math.ceil((count * size) / 8) * 8;

/**
 * A layer's arrays in its kernels' memory: the structure and the kept weights at fixed places, the
 * batch's buffers after them, laid out for the largest batch seen. The memory grows only at the
 * start of a forward pass whose batch is larger than any before, when no value of an earlier step
 * is read any more; views are made again then (growing detaches them).
 */
class LayerMemory {
  private readonly memory: WasmMemory;
  readonly kernels: Kernels;
  readonly active: number;
  readonly start: number;
  readonly output: number;
  readonly w: number;
  readonly base: number;
  readonly sums: number;
  private readonly fixedEnd: number;
  private capacity = 0;
  rows = 0;
  x = 0;
  y = 0;
  nonzero = 0;
  end = 0;
  d = 0;
  dx = 0;
  views = {
    w: new Float32Array(0),
    base: new Float32Array(0),
    sums: new Float64Array(0),
    x: new Float32Array(0),
    y: new Float32Array(0),
    d: new Float32Array(0),
    dx: new Float32Array(0),
  };

  constructor(private readonly kept: KeptRows) {
    ({ memory: this.memory, kernels: this.kernels } = kernelMemory());
    const { inputs, outputs, active, start, output } = kept;
    let at = 0;
    const place = (count: number, size: number) => {
      const offset = at;
      at += bytes(count, size);
      return offset;
    };
    this.active = place(active.length, 4);
    this.start = place(inputs + 1, 4);
    this.output = place(output.length, 4);
    this.w = place(output.length, 4);
    this.base = place(outputs, 4);
    this.sums = place(output.length, 8);
    this.fixedEnd = at;
    this.grow(at);
    new Int32Array(this.memory.buffer, this.active, active.length).set(active);
    new Int32Array(this.memory.buffer, this.start, inputs + 1).set(start);
    new Int32Array(this.memory.buffer, this.output, output.length).set(output);
  }

  private grow(size: number): void {
    const pages = Math.ceil(size / 65536) - this.memory.buffer.byteLength / 65536;
    if (pages > 0) this.memory.grow(pages);
  }

  /** Lays the batch's buffers out for `rows` rows; inactive inputs' gradients are zero. */
  ensure(rows: number): void {
    if (rows === this.rows) return;
    const { inputs, outputs, active } = this.kept;
    if (rows > this.capacity) {
      let at = this.fixedEnd;
      const place = (count: number, size: number) => {
        const offset = at;
        at += bytes(count, size);
        return offset;
      };
      this.x = place(rows * inputs, 4);
      this.y = place(rows * outputs, 4);
      this.nonzero = place(rows * active.length, 4);
      this.end = place(rows, 4);
      this.d = place(rows * outputs, 4);
      this.dx = place(rows * inputs, 4);
      this.grow(at);
      this.capacity = rows;
    }
    this.rows = rows;
    const buffer = this.memory.buffer;
    const kept = this.kept.output.length;
    this.views = {
      w: new Float32Array(buffer, this.w, kept),
      base: new Float32Array(buffer, this.base, outputs),
      sums: new Float64Array(buffer, this.sums, kept),
      x: new Float32Array(buffer, this.x, rows * inputs),
      y: new Float32Array(buffer, this.y, rows * outputs),
      d: new Float32Array(buffer, this.d, rows * outputs),
      dx: new Float32Array(buffer, this.dx, rows * inputs),
    };
    this.views.dx.fill(0);
  }
}

export class SparseDenseLayer implements HostLayer {
  private readonly memory: LayerMemory;
  private readonly gradient: Float32Array;
  /** The input value the last forward pass skipped (see `commonValue`). */
  private common = 0;
  /** Per output, b + c·Σ of its kept weights. */
  private readonly base: Float64Array;

  constructor(
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | undefined,
    private readonly first: boolean,
    private readonly kept: KeptRows,
    /** Whether the input is a ReLU's output: its gradient is only read where the input is positive. */
    private readonly reluInput = false,
  ) {
    this.memory = new LayerMemory(kept);
    this.gradient = new Float32Array(kept.inputs * kept.outputs);
    this.base = new Float64Array(kept.outputs);
  }

  /** Values valid until this layer's next forward pass (views of its memory). */
  forward(x: Values): Values {
    const { inputs, outputs, active, output, flat } = this.kept;
    const { rows } = x;
    const m = this.memory;
    m.ensure(rows);
    const { views } = m;
    views.x.set(x.read());
    const w = views.w;
    gather(readValues(this.kernel), flat, w);
    const c = commonValue(views.x, inputs);
    this.common = c;
    // Every row starts from b + c·Σw per output: the product of an input that holds c.
    const base = this.base;
    if (this.bias) base.set(readValues(this.bias));
    else base.fill(0);
    if (c !== 0) for (let j = 0; j < w.length; j++) base[output[j]] += c * w[j];
    views.base.set(base);
    m.kernels.forwardRows(
      ...[m.x, c, m.base, m.y, rows, inputs, outputs],
      ...[m.active, active.length, m.start, m.output, m.w, m.nonzero, m.end],
    );
    return Values.host(views.y, rows, outputs);
  }

  backward(dy: Values, grads: ParameterGradients): Values | null {
    const { inputs, outputs, active, output, flat } = this.kept;
    const { rows } = dy;
    const m = this.memory;
    const { views } = m;
    const d = dy.read();
    views.d.set(d);
    if (this.bias) grads.set(this.bias, columnSums(d, outputs));
    const c = this.common;
    const sums = views.sums;
    // Σ_r x·dy = Σ_r (x − c)·dy + c·Σ_r dy: the inputs that hold c add c·(column sum of dy).
    if (c === 0) sums.fill(0);
    else {
      const columns = columnSums64(d, outputs);
      for (let j = 0; j < sums.length; j++) sums[j] = c * columns[output[j]];
    }
    m.kernels.weightSums(
      ...[m.x, c, m.d, rows, inputs, outputs],
      ...[m.start, m.output, m.nonzero, m.end, active.length, m.sums],
    );
    scatter(sums, flat, this.gradient);
    grads.set(this.kernel, this.gradient);
    if (this.first) return null;
    const gradients = [m.d, rows, inputs, outputs, m.start, m.output, m.w] as const;
    if (this.reluInput && c === 0) {
      // The ReLU below passes no gradient where its output, this input, is 0: dx is computed at the
      // inputs the forward pass listed only, and 0 elsewhere.
      views.dx.fill(0);
      m.kernels.inputGradientsAt(...gradients, m.nonzero, m.end, active.length, m.dx);
    }
    // Inactive inputs' gradients are zero: never written, and zeroed when the buffer was laid out.
    else m.kernels.inputGradients(...gradients, m.active, m.end, active.length, m.dx);
    return Values.host(views.dx, rows, inputs);
  }
}

function gather(kernel: Float32Array, flat: Int32Array, w: Float32Array): void {
  for (let j = 0; j < flat.length; j++) w[j] = kernel[flat[j]];
}

function scatter(sums: Float64Array, flat: Int32Array, gradient: Float32Array): void {
  for (let j = 0; j < flat.length; j++) gradient[flat[j]] = sums[j];
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

/** The share of `values` (rows of `width`) that the sparse kernels visit: not the first row's `commonValue`. */
export function visitedShare(values: Float32Array, width: number): number {
  if (values.length === 0) return 1;
  const c = commonValue(values, width);
  let visited = 0;
  for (let k = 0; k < values.length; k++) if (values[k] !== c) visited++;
  return visited / values.length;
}

/** Per-column sums of a row-major `[rows, cols]` array, in float64. */
function columnSums64(values: Float32Array, cols: number): Float64Array {
  const sums = new Float64Array(cols);
  for (let i = 0; i < values.length; i += cols) for (let c = 0; c < cols; c++) sums[c] += values[i + c];
  return sums;
}
