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
 * y = γ·(x − μ)/√(σ² + ε) + β over the last axis (channels), μ and σ² from the batch (every other
 * axis). With x̂ = (x − μ)/√(σ² + ε) and M values per channel, the gradients are
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − dβ/M − x̂·dγ/M).
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
    const { mean, variance } = tf.moments(x0, 0) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    onStats?.(mean, variance, rows);
    // The forward pass's tensors are disposed before the backward pass; only saved ones survive.
    save([x0, g0, mean, variance]);
    return {
      value: tf.batchNorm(x0, mean, variance, b, g0, epsilon),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xs, g, mu, sigma2] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xHat = tf.batchNorm(xs, mu, sigma2, undefined, undefined, epsilon);
        const dBeta = tf.sum(dy, 0);
        const dGamma = tf.sum(tf.mul(dy, xHat), 0);
        const scale = tf.mul(g, tf.rsqrt(tf.add(sigma2, epsilon)));
        // (dy − dβ/M)·scale in one fused kernel: batch norm with mean dβ/M, variance 1, ε = 0.
        const centred = tf.batchNorm(dy, tf.div(dBeta, rows), tf.onesLike(dBeta), undefined, scale, 0);
        const dx = tf.sub(centred, tf.mul(xHat, tf.mul(scale, tf.div(dGamma, rows))));
        return [dx, dGamma, dBeta];
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
