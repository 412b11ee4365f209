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
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[row + c] - max);
    const logSum = max + Math.log(sum);
    const label = labels[r];
    loss += logSum - logits[row + label];
    for (let c = 0; c < classes; c++) gradient[row + c] = Math.exp(logits[row + c] - logSum) / n;
    gradient[row + label] -= 1 / n;
  }
  return { loss: loss / n, gradient };
}
