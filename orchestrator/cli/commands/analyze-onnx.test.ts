import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { architecture } from '../../../worker/arch/zoo.ts';
import { writeMaskFile } from '../../../worker/masks/mask-file.ts';
import { tinyModel } from '../../../worker/onnx/testing/tiny-onnx.ts';
import { Rng, randomMask } from '../../../worker/random.ts';
import { runCli } from '../run-cli.ts';

describe('esweep arch --onnx | analyze --model', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-onnx-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the export of a pruned zoo network analyses as analyze --arch does, from zeros or from --masks', async () => {
    const arch = architecture('lenet5');
    const rng = new Rng(9);
    const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * 0.05), rng));
    const maskPath = join(dir, 'lenet5.npz');
    await writeMaskFile(maskPath, arch, masks);
    const model = join(dir, 'lenet5.onnx');
    const exported = await runCli([
      'arch',
      'lenet5',
      '--onnx',
      model,
      '--masks',
      maskPath,
      '--seed',
      '3',
      '--json',
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).onnx.path, model);

    const zoo = JSON.parse(
      (await runCli(['analyze', '--arch', 'lenet5', '--masks', maskPath, '--json'])).stdout,
    );
    const fromZeros = await runCli(['analyze', '--model', model, '--json']);
    assert.equal(fromZeros.code, 0, fromZeros.stderr);
    assert.deepEqual(JSON.parse(fromZeros.stdout), { ...zoo, arch: 'lenet5.onnx' });

    // The dense export with the masks given separately (keyed by initializer = layer name).
    const dense = join(dir, 'dense.onnx');
    assert.equal((await runCli(['arch', 'lenet5', '--onnx', dense])).code, 0);
    const fromMasks = await runCli(['analyze', '--model', dense, '--masks', maskPath, '--json']);
    assert.deepEqual(JSON.parse(fromMasks.stdout).layers, zoo.layers);
    const table = await runCli(['analyze', '--model', dense, '--masks', maskPath]);
    assert.match(table.stdout, new RegExp(`^total .*\\b${zoo.effective.toLocaleString('en-US')}\\b`, 'm'));
  });

  const oneLineError = (result: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, pattern);
  };

  test('an unsupported operator, a file that is no model, and flag mistakes exit 2 with one line', async () => {
    const lrn = join(dir, 'lrn.onnx');
    await writeFile(
      lrn,
      tinyModel(
        [1, 2, 4, 4],
        [
          { op: 'Conv', inputs: ['x'], output: 'c', weights: [2, 2, 1, 1] },
          { op: 'LRN', inputs: ['c'], output: 'norm', attrs: { size: 3 } },
        ],
        { density: 1, seed: 1 },
      ),
    );
    oneLineError(await runCli(['analyze', '--model', lrn]), /node 'norm' \(LRN\): unsupported operator/);
    const text = join(dir, 'notes.onnx');
    await writeFile(text, 'not a model at all\n');
    oneLineError(await runCli(['analyze', '--model', text, '--json']), /not an ONNX model/);
    oneLineError(await runCli(['analyze', '--model', join(dir, 'missing.onnx')]), /no such file/);
    oneLineError(
      await runCli(['analyze', '--model', lrn, '--arch', 'lenet5']),
      /exactly one of --arch and --model/,
    );
    oneLineError(await runCli(['analyze', '--arch', 'lenet5']), /--masks/);
  });
});
