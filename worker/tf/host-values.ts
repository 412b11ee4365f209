/**
 * Reading tensors on backends whose tensors live in host memory (wasm, cpu), where a JS loop over
 * the values beats a chain of tfjs kernels (each with a fixed cost per call).
 */
import * as tf from '@tensorflow/tfjs';

const HOST_MEMORY_BACKENDS = new Set(['wasm', 'cpu']);

/** Whether the active backend keeps tensors in host memory. */
export function hostMemoryBackend(): boolean {
  return HOST_MEMORY_BACKENDS.has(tf.getBackend());
}

type HeapBackend = { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };

/**
 * A tensor's values without a copy where the backend allows it, for reading only. On wasm this is
 * a view into the heap, which the next tensor allocation may move (growing the heap detaches the
 * view): read it at once, before creating any tensor.
 */
export function readValues(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as Partial<HeapBackend>;
  return backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}
