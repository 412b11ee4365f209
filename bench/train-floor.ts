/**
 * The floor for a LeNet-300-100 MNIST epoch: only the matMuls a training step cannot avoid, on the
 * active backend, with no framework code (no tape, no customGrad, no activations, loss, optimizer or
 * masks). `bench:train` compares the real epoch to it (target: ≤ 1.3× the floor).
 *
 * Training changes the weights every step, and on wasm that has a price no code can avoid: XNNPACK
 * packs a matMul's right operand into its operator, cached per tensor, so new weights are packed
 * again (docs/performance.md has the cost). By default the floor pays it too, with new weight tensors
 * every step (uploaded from host memory, as the host SGD does); `fixedWeights` keeps one set, the
 * cache's best case, which no training run can reach.
 */
import * as tf from '@tensorflow/tfjs';

export const LENET300100_SIZES: readonly number[] = [784, 300, 100, 10];

export interface FloorOptions {
  /** Steps per epoch: 60,000 MNIST images / batch 100 = 600. */
  steps?: number;
  batch?: number;
  /** Layer widths, input first. */
  sizes?: readonly number[];
  /** The same weight tensors every step instead of new ones (default false). */
  fixedWeights?: boolean;
}

export interface FloorResult {
  /** Wall-clock seconds of the timed steps. */
  seconds: number;
  /** This process's CPU seconds over the same steps: wasm and cpu run on one thread, so on a busy
   * machine this is the figure that stays comparable. */
  cpuSeconds: number;
  steps: number;
  batch: number;
  backend: string;
}

/**
 * One step's matMuls: forward through every layer, then per layer dW = hᵀ·g and, except for the
 * first layer (its input is data), g ← g·Wᵀ; transposes explicit, as ops.ts does them. Returns the
 * dWs, in layer order; `dOut` stands in for the loss gradient at the output.
 */
export function floorStep(x: tf.Tensor2D, weights: readonly tf.Tensor2D[], dOut: tf.Tensor2D): tf.Tensor2D[] {
  const inputs: tf.Tensor2D[] = [];
  let h = x;
  for (const w of weights) {
    inputs.push(h);
    h = tf.matMul(h, w);
  }
  const grads: tf.Tensor2D[] = [];
  let g = dOut;
  for (let l = weights.length - 1; l >= 0; l--) {
    grads.unshift(tf.matMul(tf.transpose(inputs[l]), g));
    if (l > 0) g = tf.matMul(g, tf.transpose(weights[l]));
  }
  return grads;
}

/** Times `steps` floor steps (after one untimed warm-up step) on the active backend. */
export async function benchFloorEpoch(options: FloorOptions = {}): Promise<FloorResult> {
  const { steps = 600, batch = 100, sizes = LENET300100_SIZES, fixedWeights = false } = options;
  const x = tf.randomNormal([batch, sizes[0]], 0, 1, 'float32', 1) as tf.Tensor2D;
  const weights = sizes
    .slice(1)
    .map((out, i) => tf.randomNormal([sizes[i], out], 0, 0.05, 'float32', 2 + i) as tf.Tensor2D);
  const hostWeights = weights.map((w) => w.dataSync() as Float32Array);
  const dOut = tf.randomNormal([batch, sizes[sizes.length - 1]], 0, 1, 'float32', 99) as tf.Tensor2D;
  const stepWeights = () =>
    fixedWeights ? weights : hostWeights.map((values, i) => tf.tensor2d(values, weights[i].shape));
  // Each step keeps one gradient, read after the loop: the sync point for backends that run async.
  const step = () => tf.tidy(() => floorStep(x, stepWeights(), dOut)[0]);
  try {
    const warm = step();
    await warm.data();
    warm.dispose();
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    let last = step();
    for (let i = 1; i < steps; i++) {
      last.dispose();
      last = step();
    }
    await last.data();
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    last.dispose();
    return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, steps, batch, backend: tf.getBackend() };
  } finally {
    tf.dispose([x, ...weights, dOut]);
  }
}
