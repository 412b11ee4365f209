import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { architecture } from '../../../worker/arch/zoo.ts';
import { writeMaskFile } from '../../../worker/masks/mask-file.ts';
import { Rng, randomMask } from '../../../worker/random.ts';
import { analyze } from '../../../worker/sparsity/analysis.ts';
import { runCli } from '../run-cli.ts';

describe('esweep arch | analyze | quotas', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('arch --json follows the contract', async () => {
    const { code, stdout } = await runCli(['arch', 'lenet5', '--json']);
    assert.equal(code, 0);
    const doc = JSON.parse(stdout);
    assert.deepEqual(
      { name: doc.name, dataset: doc.dataset, input: doc.input, classes: doc.classes },
      { name: 'lenet5', dataset: 'cifar10', input: [32, 32, 3], classes: 10 },
    );
    assert.deepEqual(doc.layers[2], { name: 'fc1', kind: 'dense', shape: [120, 400], params: 48000 });
    assert.equal(doc.layers.length, 5);
  });

  test('analyze --json reports what the library computes, and the table shows the same counts', async () => {
    const arch = architecture('lenet5');
    const rng = new Rng(4);
    const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * 0.05), rng));
    const path = join(dir, 'lenet5.npz');
    await writeMaskFile(path, arch, masks);
    const expected = analyze(arch, masks);

    const json = await runCli(['analyze', '--arch', 'lenet5', '--masks', path, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.deepEqual(Object.keys(doc).sort(), [
      'arch',
      'direct',
      'directCompression',
      'directSparsity',
      'effective',
      'effectiveCompression',
      'effectiveSparsity',
      'layers',
      'total',
    ]);
    assert.equal(doc.effective, expected.effective);
    assert.deepEqual(doc.layers, expected.layers);

    const table = await runCli(['analyze', '--arch', 'lenet5', '--masks', path]);
    assert.equal(table.code, 0);
    const total = table.stdout.split('\n').find((line) => line.startsWith('total'))!;
    assert.match(total, new RegExp(`\\b${expected.effective.toLocaleString('en-US')}\\b`));
  });

  test('an empty network prints compression inf, and null in JSON', async () => {
    const arch = architecture('lenet300100');
    const path = join(dir, 'empty.npz');
    await writeMaskFile(
      path,
      arch,
      arch.layers.map((l) => new Uint8Array(l.params)),
    );
    const json = await runCli(['analyze', '--arch', 'lenet300100', '--masks', path, '--json']);
    assert.equal(JSON.parse(json.stdout).effectiveCompression, null);
    const table = await runCli(['analyze', '--arch', 'lenet300100', '--masks', path]);
    assert.match(table.stdout, /effective compression inf/);
  });

  test('quotas --json gives per-layer sparsities', async () => {
    const { code, stdout } = await runCli([
      'quotas',
      '--arch',
      'vgg16',
      '--method',
      'erk',
      '--compression',
      '100',
      '--json',
    ]);
    assert.equal(code, 0);
    const doc = JSON.parse(stdout);
    assert.equal(doc.layers.length, 14);
    const removed = doc.layers.reduce(
      (sum: number, l: { params: number; sparsity: number }) => sum + l.params * l.sparsity,
      0,
    );
    assert.ok(Math.abs(removed - 0.99 * 14_715_584) <= 1);
  });

  const badInputs: [string, string[], RegExp][] = [
    ['unknown architecture', ['arch', 'alexnet'], /unknown architecture 'alexnet'/],
    ['unknown dataset', ['arch', 'vgg16', '--dataset', 'imagenet'], /--dataset: unknown dataset 'imagenet'/],
    [
      'sparsity out of range',
      ['quotas', '--arch', 'vgg16', '--method', 'igq', '--sparsity', '1.5'],
      /--sparsity: must be a number in \[0, 1\]/,
    ],
    [
      'both targets',
      ['quotas', '--arch', 'vgg16', '--method', 'igq', '--sparsity', '0.5', '--compression', '2'],
      /exactly one of/,
    ],
    [
      'uniform_plus on an MLP',
      ['quotas', '--arch', 'lenet300100', '--method', 'uniform_plus', '--sparsity', '0.5'],
      /convolutional networks only/,
    ],
    [
      'missing mask file',
      ['analyze', '--arch', 'vgg16', '--masks', '/nonexistent/m.npz'],
      /cannot read mask file \/nonexistent\/m\.npz/,
    ],
    [
      'unknown layout',
      ['analyze', '--arch', 'vgg16', '--masks', 'x.npz', '--layout', 'jax'],
      /--layout: unknown layout 'jax'/,
    ],
    [
      'missing required flag',
      ['analyze', '--arch', 'vgg16'],
      /required option '--masks <file.npz>' not specified/,
    ],
  ];
  for (const [what, args, message] of badInputs) {
    test(`bad input (${what}): one line on stderr, exit code 2`, async () => {
      const { code, stderr, stdout } = await runCli(args);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    });
  }

  test('a mask file of the wrong network is one clear line', async () => {
    const path = join(dir, 'lenet-for-vgg.npz');
    const arch = architecture('lenet300100');
    await writeMaskFile(
      path,
      arch,
      arch.layers.map((l) => new Uint8Array(l.params)),
    );
    const { code, stderr } = await runCli(['analyze', '--arch', 'vgg16', '--masks', path]);
    assert.equal(code, 2);
    assert.match(stderr, /no mask for layer\(s\) conv1, conv2/);
  });

  test('a text file is not an npz', async () => {
    const path = join(dir, 'notes.npz');
    await writeFile(path, 'hello');
    const { code, stderr } = await runCli(['analyze', '--arch', 'vgg16', '--masks', path]);
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.ok(stderr.includes(path));
  });
});
