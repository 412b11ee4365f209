// The host training step against the tape step it replaces: the same loss, gradients, running
// statistics and, through the trainers, the same weights after masked SGD steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type Architecture, GraphBuilder } from '../../arch/graph.ts';
import { ARCHITECTURE_NAMES, architecture, isConvolutional } from '../../arch/zoo.ts';
import { type Batch, batches } from '../../data/index.ts';
import { batchTensors } from '../../model/batch-tensors.ts';
import { initialWeights } from '../../model/init.ts';
import { crossEntropy, Model } from '../../model/model.ts';
import { randomDataset } from '../../pruners/testing.ts';
import { Rng } from '../../random.ts';
import { selectBackend } from '../../tf/backend.ts';
import { createTrainer, type StepKind } from '../trainer.ts';
import { HostNetwork, hostTrainable } from './network.ts';

const arch = architecture('lenet300100');
const dataset = randomDataset(arch, 64, 1);
const trainBatches = (size: number, data = dataset): Batch[] => [
  ...batches(data, 'train', { batchSize: size, shuffle: { seed: 2, epoch: 0 }, dropLast: true }),
];

/** Small chains with the layers LeNet-300-100 lacks: a ReLU without batch norm, a batch norm without ReLU. */
function chain(name: string, hidden: (g: GraphBuilder, x: number) => number): Architecture {
  const g = new GraphBuilder([4, 4, 1]);
  g.dense(hidden(g, g.dense(g.flatten(g.inputId), 'fc1', 6)), 'fc2', 5, { bias: true });
  return g.build({ name, dataset: 'test', input: [4, 4, 1], classes: 5 });
}
const NETWORKS = [
  arch,
  chain('dense-relu', (g, x) => g.relu(x)),
  chain('dense-batchnorm', (g, x) => g.batchnorm(x)),
];

/** max |actual − expected| / max |expected|. */
function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let k = 0; k < expected.length; k++) {
    diff = Math.max(diff, Math.abs(actual[k] - expected[k]));
    scale = Math.max(scale, Math.abs(expected[k]));
  }
  return diff / scale;
}

/** A network with its biases and batch norm scales and shifts away from 0 and 1, so their gradients matter. */
function model(network = arch): Model {
  const m = new Model(network, initialWeights(network, 5));
  const rng = new Rng(7);
  for (const p of m.trainable.slice(network.layers.length))
    tf.tidy(() =>
      p.assign(
        tf.tensor(
          Float32Array.from({ length: p.size }, () => 1 + 0.5 * rng.normal()),
          p.shape,
        ),
      ),
    );
  return m;
}

const runningStats = (m: Model) =>
  m.arch.nodes
    .filter((n) => n.kind === 'batchnorm')
    .flatMap((n) => [m.norm(n.id).mean, m.norm(n.id).variance]);

test('the host step trains exactly the chains of dense, batch norm and ReLU layers', () => {
  for (const name of ARCHITECTURE_NAMES)
    assert.equal(hostTrainable(architecture(name)), !isConvolutional(name), name);
  // A batch norm before the first dense layer would get no gradient: the backward pass stops there.
  const g = new GraphBuilder([4, 4, 1]);
  g.dense(g.batchnorm(g.flatten(g.inputId)), 'fc', 5, { bias: true });
  assert.equal(
    hostTrainable(g.build({ name: 'norm-first', dataset: 'test', input: [4, 4, 1], classes: 5 })),
    false,
  );
});

async function compareGradients(network: Architecture): Promise<void> {
  const [tape, host] = [model(network), model(network)];
  const data = randomDataset(network, 64, 1);
  const [batch] = trainBatches(16, data);
  try {
    const expected = tf.tidy(() => {
      const { x, y } = batchTensors(network.input, batch);
      const { value, grads } = tf.variableGrads(
        () => crossEntropy(tape.forward(x, 'trainStep'), y),
        tape.trainable,
      );
      return { loss: value.dataSync()[0], grads: tape.trainable.map((p) => grads[p.name].dataSync()) };
    });
    const actual = tf.tidy(() => {
      const { loss, grads } = new HostNetwork(host).lossAndGradients(batch);
      return {
        loss,
        grads: host.trainable.map((p) => {
          const g = grads.get(p);
          assert.ok(g, `no gradient for ${p.name}`);
          return g instanceof Float32Array ? g.slice() : g.dataSync();
        }),
      };
    });
    assert.ok(
      Math.abs(actual.loss - expected.loss) < 1e-5 * expected.loss,
      `loss ${actual.loss} vs ${expected.loss}`,
    );
    tape.trainable.forEach((p, i) => {
      const error = relativeError(actual.grads[i], expected.grads[i]);
      assert.ok(error < 1e-4, `${network.name} ${p.name} (parameter ${i}): relative error ${error}`);
    });
    const [hostStats, tapeStats] = [runningStats(host), runningStats(tape)];
    tapeStats.forEach((s, i) => {
      const error = relativeError(hostStats[i].dataSync(), s.dataSync());
      assert.ok(error < 1e-5, `running statistic ${i}: relative error ${error}`);
    });
  } finally {
    tape.dispose();
    host.dispose();
  }
}

for (const backend of ['cpu', 'wasm']) {
  test(`${backend}: host loss, gradients and running statistics equal the tape's`, async () => {
    await selectBackend(backend);
    for (const network of NETWORKS) await compareGradients(network);
  });

  test(`${backend}: host and tape trainers leave the same weights after masked steps`, async () => {
    await selectBackend(backend);
    const rng = new Rng(11);
    const masks = arch.layers.map((layer, k) =>
      k === arch.layers.length - 1
        ? new Uint8Array(layer.params).fill(1)
        : Uint8Array.from({ length: layer.params }, () => (rng.next() < 0.3 ? 1 : 0)),
    );
    const run = async (kind: StepKind) => {
      const m = model();
      const trainer = createTrainer(m, masks, { momentum: 0.9, weightDecay: 5e-4 }, kind);
      for (const [k, batch] of trainBatches(16).entries()) trainer.step(batch, k < 2 ? 0.1 : 0.01);
      const { sum, steps } = await trainer.drainLoss();
      trainer.dispose();
      const params = m.trainable.map((p) => p.dataSync().slice());
      const weights = m.weights();
      m.dispose();
      return { loss: sum / steps, steps, params, weights };
    };
    const before = tf.memory().numTensors;
    const tape = await run('tape');
    const host = await run('host');
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.equal(host.steps, 4);
    assert.ok(Math.abs(host.loss - tape.loss) < 1e-4 * tape.loss, `mean loss ${host.loss} vs ${tape.loss}`);
    tape.params.forEach((expected, i) => {
      const error = relativeError(host.params[i], expected);
      assert.ok(error < 1e-4, `parameter ${i}: relative error ${error}`);
    });
    host.weights.forEach((w, k) => {
      for (const [j, kept] of masks[k].entries())
        assert.ok(kept || w[j] === 0, `layer ${k} pruned weight ${j} is ${w[j]}`);
    });
  });
}
