import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { architecture } from '../arch/zoo.ts';
import { type NdArray, writeNpz } from '../io/npz.ts';
import { Rng, randomMask } from '../random.ts';
import { masksFromArrays, masksToArrays, readMaskFile, writeMaskFile } from './mask-file.ts';

describe('mask files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-masks-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const randomMasks = (name: string, seed: number) => {
    const rng = new Rng(seed);
    return architecture(name).layers.map((layer) =>
      randomMask(layer.params, Math.ceil(layer.params / 3), rng),
    );
  };

  for (const layout of ['torch', 'keras'] as const) {
    test(`${layout} layout round-trips through an npz file`, async () => {
      for (const name of ['lenet5', 'resnet18']) {
        const arch = architecture(name);
        const masks = randomMasks(name, 1);
        const path = join(dir, `${name}-${layout}.npz`);
        await writeMaskFile(path, arch, masks, layout);
        assert.deepEqual(await readMaskFile(path, arch, layout), masks);
      }
    });
  }

  test('keras layout: conv is (kh, kw, in, out), LeNet-5 fc1 inputs are ordered (y, x, channel)', () => {
    const arch = architecture('lenet5');
    const arrays = masksToArrays(
      arch,
      arch.layers.map((l) => new Uint8Array(l.params)),
      'keras',
    );
    const conv2 = arrays.get('conv2')!;
    const fc1 = arrays.get('fc1')!;
    assert.deepEqual(conv2.shape, [5, 5, 6, 16]);
    assert.deepEqual(fc1.shape, [400, 120]);
    // Keep conv2 weight (o=7, i=2, dy=3, dx=1) and fc1 weight (o=4) reading (c=3, y=1, x=2).
    conv2.data[((3 * 5 + 1) * 6 + 2) * 16 + 7] = 1;
    fc1.data[((1 * 5 + 2) * 16 + 3) * 120 + 4] = 1;
    const torch = masksFromArrays(arch, arrays, 'keras');
    assert.deepEqual(
      [...torch[1].keys()].filter((k) => torch[1][k]),
      [((7 * 6 + 2) * 5 + 3) * 5 + 1],
    );
    assert.deepEqual(
      [...torch[2].keys()].filter((k) => torch[2][k]),
      [4 * 400 + 3 * 25 + 1 * 5 + 2],
    );
  });

  test('any numeric dtype works and non-zero means kept (as PyTorch float masks are saved)', () => {
    const arch = architecture('lenet300100');
    const arrays = new Map<string, NdArray>(
      arch.layers.map((layer, k) => {
        const data = new Float32Array(layer.params);
        data[k] = 0.5;
        data[k + 1] = -2;
        return [layer.name, { dtype: 'float32', shape: [...layer.shape], data }];
      }),
    );
    const masks = masksFromArrays(arch, arrays, 'torch');
    const kept = masks.map((mask) => [...mask.keys()].filter((j) => mask[j]));
    assert.deepEqual(
      kept,
      masks.map((_, k) => [k, k + 1]),
    );
  });

  const arraysFor = (name: string) => masksToArrays(architecture(name), randomMasks(name, 2), 'torch');
  const cases: [string, () => Uint8Array | Promise<Uint8Array>, RegExp][] = [
    [
      'a missing layer',
      () => {
        const arrays = arraysFor('lenet300100');
        arrays.delete('fc2');
        return writeNpz(arrays);
      },
      /no mask for layer\(s\) fc2 of lenet300100/,
    ],
    [
      'an extra array',
      () => {
        const arrays = arraysFor('lenet300100');
        arrays.set('fc4', { dtype: 'bool', shape: [1], data: new Uint8Array(1) });
        return writeNpz(arrays);
      },
      /unexpected array\(s\) fc4/,
    ],
    [
      'a wrong shape',
      () => {
        const arrays = arraysFor('lenet300100');
        arrays.set('fc1', { dtype: 'bool', shape: [784, 300], data: new Uint8Array(784 * 300) });
        return writeNpz(arrays);
      },
      /layer fc1: shape \(784, 300\) does not match torch layout \(300, 784\)/,
    ],
    [
      'a NaN',
      () => {
        const arrays = arraysFor('lenet300100');
        const data = new Float64Array(1000).fill(1);
        data[17] = Number.NaN;
        arrays.set('fc3', { dtype: 'float64', shape: [10, 100], data });
        return writeNpz(arrays);
      },
      /layer fc3: mask holds NaN \(at flat index 17\)/,
    ],
    ['not an npz', () => new TextEncoder().encode('fc1,fc2\n1,0\n'), /bad\.npz: /],
  ];
  for (const [what, bytes, message] of cases) {
    test(`${what} is one clear input error naming the file`, async () => {
      const path = join(dir, 'bad.npz');
      await writeFile(path, await bytes());
      await assert.rejects(readMaskFile(path, architecture('lenet300100')), (error: Error) => {
        assert.equal(error.name, 'InputError');
        assert.match(error.message, message);
        assert.ok(error.message.startsWith(path), error.message);
        assert.ok(!error.message.includes('\n'));
        return true;
      });
    });
  }

  test('a missing file is an input error', async () => {
    const missing = join(dir, 'nope.npz');
    await assert.rejects(readMaskFile(missing, architecture('lenet5')), {
      name: 'InputError',
      message: `cannot read mask file ${missing}: no such file`,
    });
  });
});
