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

  tensor(): tf.Tensor2D {
    this.asTensor ??= tf.tensor2d(this.owned as Float32Array, [this.rows, this.cols]);
    return this.asTensor;
  }
}
