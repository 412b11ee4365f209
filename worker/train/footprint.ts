/**
 * How much memory one training step of an architecture takes at a batch size, and whether the
 * backend can hold it. The wasm backend is a 32-bit WebAssembly module: its whole heap (tensors
 * included) can never pass 4 GiB, and when an allocation fails the module aborts and every later
 * call fails with an unrelated-looking error ("null function or function signature mismatch",
 * "memory access out of bounds"). So a step that cannot fit is refused before it starts.
 */
import { InputError } from '../../common/errors.ts';
import type { Architecture } from '../arch/graph.ts';
import { architecture } from '../arch/zoo.ts';
import type { BackendName } from '../tf/backend.ts';
import { referenceSettings } from './settings.ts';

const FLOAT_BYTES = 4;
const GIB = 2 ** 30;

/** The wasm heap's hard ceiling in tfjs-backend-wasm 4.22 (its emscripten `getHeapMax()`). */
export const WASM_HEAP_BYTES = 4_294_901_760;
/** The share of that ceiling a step may plan for: freed blocks are reused, not compacted. */
const WASM_USABLE_SHARE = 0.85;

/**
 * Copies of the parameters alive at the step's peak (weights, gradients, momentum) and of every
 * node's output activation per example (the forward value, what the tape keeps for the backward
 * pass, and the gradients flowing back). Fitted to peak bytes measured with tf.profile on wasm:
 * ResNet-18/CIFAR-10 at batch 8 and 16, VGG-16/CIFAR-10 at batch 8 and 32 (docs/gpu.md).
 */
const PARAMETER_COPIES = 3;
const ACTIVATION_COPIES = 4.75;

/** Floats of every node's output for one example. */
function activationFloatsPerExample(arch: Architecture): number {
  return arch.nodes.reduce((sum, node) => sum + node.shape[0] * node.shape[1] * node.shape[2], 0);
}

/** Estimated peak bytes of one forward+backward+update step at `batchSize`. */
export function trainingStepBytes(arch: Architecture, batchSize: number): number {
  const parameters = PARAMETER_COPIES * arch.totalParams * FLOAT_BYTES;
  const activations = ACTIVATION_COPIES * activationFloatsPerExample(arch) * FLOAT_BYTES * batchSize;
  return Math.ceil(parameters + activations);
}

/**
 * The bytes a step may use on a backend, where a fixed ceiling exists: only wasm has one. The cpu
 * backend holds tensors in JS arrays (host memory), and a GPU's memory is known only at run time
 * (`esweep doctor` shows it).
 */
export function stepMemoryLimit(backend: BackendName): number | null {
  return backend === 'wasm' ? WASM_HEAP_BYTES * WASM_USABLE_SHARE : null;
}

/** The largest batch whose step fits in `limitBytes` (0 when not even one example does). */
export function largestFittingBatch(arch: Architecture, limitBytes: number): number {
  const parameters = trainingStepBytes(arch, 0);
  const perExample = trainingStepBytes(arch, 1) - parameters;
  return Math.max(0, Math.floor((limitBytes - parameters) / perExample));
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/** Null when the step fits on the backend, else one line naming the limit and the way out. */
export function trainingFitProblem(
  arch: Architecture,
  batchSize: number,
  backend: BackendName,
): string | null {
  const limit = stepMemoryLimit(backend);
  const needed = trainingStepBytes(arch, batchSize);
  if (limit === null || needed <= limit) return null;
  const fits = largestFittingBatch(arch, limit);
  const smaller = fits > 0 ? `batchSize ≤ ${fits}, or ` : '';
  return (
    `${arch.name} on ${arch.dataset} at batch ${batchSize} needs about ${gib(needed)} per training step, ` +
    `more than the ${backend} backend can hold (${gib(limit)} of its 4 GiB heap): use ${smaller}a GPU`
  );
}

/** What a trial trains: the architecture, its dataset, and a batch size if not the reference one. */
export interface TrainingShape {
  arch: string;
  dataset?: string;
  batchSize?: number;
}

/** Throws an InputError naming the first trial whose step cannot fit on `backend`. */
export function assertTrainingFits(trials: readonly TrainingShape[], backend: BackendName): void {
  const seen = new Set<string>();
  for (const trial of trials) {
    const batchSize = trial.batchSize ?? referenceSettings(trial.arch).batchSize;
    const key = `${trial.arch}/${trial.dataset ?? ''}/${batchSize}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const problem = trainingFitProblem(architecture(trial.arch, trial.dataset), batchSize, backend);
    if (problem) throw new InputError(problem);
  }
}
