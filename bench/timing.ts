import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../worker/arch/graph.ts';
import { initialWeights } from '../worker/model/init.ts';
import { Model } from '../worker/model/model.ts';

/** Median wall time of `run` over `repeats` runs after one warm-up, in milliseconds. */
export async function medianMs(run: () => unknown, repeats = 5): Promise<number> {
  await run();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * The unit cost of the reference implementation's effective-sparsity method: one forward and
 * backward pass at batch 1 through the linearised network (all-ones input, |w|), every kernel
 * gradient read back, in the current tfjs backend.
 */
export async function gradientPassMs(arch: Architecture, repeats = 5): Promise<number> {
  const model = new Model(arch, initialWeights(arch, 0));
  const ones = tf.ones([1, ...arch.input]) as tf.Tensor4D;
  try {
    return await medianMs(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(model.forward(ones, 'linear')), model.kernels);
      for (const g of Object.values(grads)) g.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    }, repeats);
  } finally {
    ones.dispose();
    model.dispose();
  }
}

export const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 1000) / 1000;
