import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costModel, RELU_VISITED, sparseIsCheaper } from './dispatch.ts';

const reluInput = { first: false, relu: true, visited: RELU_VISITED };

test('the cost model puts a layer on the sparse kernels where its visits cost less than the dense products', () => {
  // LeNet-300-100's fc2 (ReLU input) at ×100 and ×20 compression; fc3 at ×1000 and ×100.
  assert.equal(sparseIsCheaper(0.035, reluInput), true);
  assert.equal(sparseIsCheaper(0.189, reluInput), false);
  assert.equal(sparseIsCheaper(0.084, reluInput), true);
  assert.equal(sparseIsCheaper(0.52, reluInput), false);
  // Without a ReLU below, the input gradient visits every input: a lower break-even.
  assert.equal(sparseIsCheaper(0.084, { ...reluInput, relu: false, visited: 1 }), false);
});

test('the first layer is judged on the share of the data the sparse kernels visit', () => {
  const first = { first: true, relu: false, visited: 1 };
  // An MNIST-like share of non-background inputs; fc1 densities on either side of its crossover.
  assert.equal(costModel(0.19)(0.277, first), true);
  assert.equal(costModel(0.19)(0.57, first), false);
  // Data with no background value: every input is visited.
  assert.equal(costModel(1)(0.064, first), false);
  // The data's share is for the first layer only.
  assert.equal(costModel(0.01)(0.189, reluInput), false);
});
