/**
 * The predictor for a network with no path left from input to output: its logits cannot depend on
 * the input, so the best it can learn is a constant. Under cross-entropy the best constant is the
 * training labels' class frequencies; its prediction is their most frequent class (the lowest
 * index on a tie). Accuracy: the share of test labels equal to that class; test loss: the mean
 * −log frequency of the test labels (Infinity if a test class never occurs in training); training
 * loss: the entropy of the training labels.
 */
import type { Dataset } from '../data/index.ts';

export interface ConstantPrediction {
  /** The class predicted for every input. */
  majorityClass: number;
  accuracy: number;
  loss: number;
  testLoss: number;
}

export function constantPrediction(dataset: Pick<Dataset, 'classes' | 'train' | 'test'>): ConstantPrediction {
  const counts = new Float64Array(dataset.classes);
  for (const label of dataset.train.labels) counts[label]++;
  const total = dataset.train.count;
  let majorityClass = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c] > counts[majorityClass]) majorityClass = c;
  let loss = 0;
  for (const n of counts) if (n > 0) loss -= (n / total) * Math.log(n / total);
  let correct = 0;
  let testLoss = 0;
  for (const label of dataset.test.labels) {
    if (label === majorityClass) correct++;
    testLoss -= Math.log(counts[label] / total);
  }
  const testCount = dataset.test.count;
  return { majorityClass, accuracy: correct / testCount, loss, testLoss: testLoss / testCount };
}
