import * as tf from '@tensorflow/tfjs';
import { readValues } from '../../tf/host-values.ts';

/**
 * A `[rows, cols]` activation or gradient of the host training step, held as host values, as a
 * tensor, or both: each layer takes the form it computes on (matMuls on tensors, the elementwise
 * layers in JS loops) and the conversion happens only where the two meet.
 */
export class Values {
  private constructor(
    readonly rows: number,
    readonly cols: number,
    private owned: Float32Array | null,
    private asTensor: tf.Tensor2D | null,
  ) {}

  /**
   * Values left unchanged until the step ends (a cpu tensor made from them shares the array, and
   * the step's tensors are disposed when it ends).
   */
  static host(values: Float32Array, rows: number, cols: number): Values {
    return new Values(rows, cols, values, null);
  }

  static tensor(t: tf.Tensor2D): Values {
    return new Values(t.shape[0], t.shape[1], null, t);
  }

  /** For reading only; for a wasm tensor a heap view that the next tensor allocation may detach. */
  read(): Float32Array {
    return this.owned ?? readValues(this.asTensor as tf.Tensor2D);
  }

  /** Values that stay valid until the step ends: host values as they are, a tensor's copied. */
  stable(): Float32Array {
    return this.owned ?? readValues(this.asTensor as tf.Tensor2D).slice();
  }

  tensor(): tf.Tensor2D {
    this.asTensor ??= tf.tensor2d(this.owned as Float32Array, [this.rows, this.cols]);
    return this.asTensor;
  }
}

/**
 * `buffer` if it holds `length` values, else a new one. Layers reuse their buffers from step to
 * step: a fresh 100×300 array per layer and pass is ~1 MB of new memory per step, which V8 pays
 * for in garbage collections. A buffer's contents are valid until the layer's next pass.
 */
export function sized(buffer: Float32Array<ArrayBuffer>, length: number): Float32Array<ArrayBuffer> {
  return buffer.length === length ? buffer : new Float32Array(length);
}

/**
 * Per-column sums of a row-major `[rows, cols]` array. Like every loop here, column by column: the
 * sums stay in registers, and a batch's column block stays in L1 from one column to the next
 * (twice as fast as row by row).
 */
export function columnSums(values: Float32Array, cols: number): Float32Array {
  const sums = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let i = c; i < values.length; i += cols) sum += values[i];
    sums[c] = sum;
  }
  return sums;
}
