/**
 * Batch norm on batch statistics and softmax cross-entropy with hand-written gradients. tfjs'
 * autograd of `tf.moments` + `tf.batchNorm` and of `tf.losses.softmaxCrossEntropy` spends ~120
 * kernels per LeNet-300-100 step (Tile, broadcast reductions, casts, identities); on wasm every
 * kernel has a fixed cost, so these two ops were most of the step's overhead over its matMuls.
 * Same values and gradients (tested against tfjs' own on cpu and wasm).
 */
import * as tf from '@tensorflow/tfjs';

/** Receives a pass's batch statistics (biased variance) and the number of values per channel. */
export type BatchStatsSink = (mean: tf.Tensor1D, variance: tf.Tensor1D, count: number) => void;

/**
 * Column sums of a [rows, c] matrix, times `scale`, as one [1, rows]·[rows, c] matMul: on wasm a
 * reduction over the first axis transposes first and costs 4× as much (30 µs vs 7 µs at 100×300).
 */
function columnSums(x: tf.Tensor2D, scale = 1): tf.Tensor2D {
  return tf.matMul(tf.fill([1, x.shape[0]], scale), x);
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β over the last axis (channels), μ and σ² from the batch (every other
 * axis). With x̂ = (x − μ)/√(σ² + ε) and M values per channel, the gradients are
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − dβ/M − x̂·dγ/M).
 * Plain elementwise ops and column sums, not tf.moments and tf.batchNorm: wasm's batch norm kernel
 * takes 115 µs on a 100×300 batch where the same arithmetic as elementwise ops takes 40 µs.
 * The statistics are computed inside the op, off the gradient tape (which would otherwise record
 * and differentiate them for nothing); `onStats` sees them there, e.g. to update running averages.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  onStats?: BatchStatsSink,
): tf.Tensor {
  const channels = x.shape[x.rank - 1];
  const rows = x.size / channels;
  const normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x0, g0, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = columnSums(x0, 1 / rows);
    const centred = tf.sub(x0, mean) as tf.Tensor2D;
    const variance = columnSums(tf.square(centred), 1 / rows);
    onStats?.(tf.reshape(mean, [channels]), tf.reshape(variance, [channels]), rows);
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const xHat = tf.mul(centred, inverseStd);
    // The forward pass's tensors are disposed before the backward pass; only saved ones survive.
    save([xHat, tf.mul(g0, inverseStd)]);
    return {
      value: tf.add(tf.mul(xHat, g0), b),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xh, scale] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dBeta = columnSums(dy);
        const dGamma = columnSums(tf.mul(dy, xh));
        const centredDy = tf.sub(dy, tf.div(dBeta, rows));
        const dx = tf.mul(tf.sub(centredDy, tf.mul(xh, tf.div(dGamma, rows))), scale);
        return [dx, tf.reshape(dGamma, [channels]), tf.reshape(dBeta, [channels])];
      },
    };
  }) as (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;
  return tf.reshape(normalize(tf.reshape(x, [rows, channels]) as tf.Tensor2D, gamma, beta), x.shape);
}

/**
 * Mean over the batch of −log softmax(z)[label]; gradient (softmax(z) − onehot)/n. The one-hot
 * targets are a constant of the op, not an input.
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  const [n, classes] = logits.shape;
  // Cast rather than oneHot(..., 'float32'): the wasm kernel ignores the dtype and writes int32 bits.
  const targets = tf.cast(tf.oneHot(labels, classes), 'float32');
  const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const logProbabilities = tf.logSoftmax(z);
    // The forward pass's tensors are disposed before the backward pass; only saved ones survive.
    save([logProbabilities, targets]);
    return {
      value: tf.mul(tf.sum(tf.mul(targets, logProbabilities)), -1 / n) as tf.Scalar,
      gradFunc: (dy: tf.Scalar, [logP, onehot]: tf.Tensor[]) =>
        tf.mul(tf.sub(tf.exp(logP), onehot), tf.div(dy, n)),
    };
  }) as (z: tf.Tensor2D) => tf.Scalar;
  return loss(logits);
}
