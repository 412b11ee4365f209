/**
 * Mean softmax cross-entropy of `[n, classes]` logits against integer labels, and its gradient
 * (softmax − onehot)/n, in float64 sums: the host step's counterpart of training-ops'
 * `softmaxCrossEntropy`.
 */
export function softmaxCrossEntropyHost(
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes: number,
): { loss: number; gradient: Float32Array } {
  const n = labels.length;
  const gradient = new Float32Array(logits.length);
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const row = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[row + c] - max);
      gradient[row + c] = e;
      sum += e;
    }
    const label = labels[r];
    loss += max + Math.log(sum) - logits[row + label];
    for (let c = 0; c < classes; c++) gradient[row + c] /= sum * n;
    gradient[row + label] -= 1 / n;
  }
  return { loss: loss / n, gradient };
}
