import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { loadDataset } from './index.ts';
import { cifarRecords, pixelOf } from './test-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'esweep-cifar-'));
after(() => rmSync(root, { recursive: true, force: true }));

function rejectsInput(promise: Promise<unknown>, message: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

/** CIFAR-10 with `perBatch` records in each of the five training batches and 7 test records. */
function writeCifar10(dataDir: string, perBatch: number): void {
  const dir = join(dataDir, 'cifar-10-batches-bin');
  mkdirSync(dir, { recursive: true });
  for (let b = 0; b < 5; b++) {
    const first = b * perBatch;
    const labels = Array.from({ length: perBatch }, (_, k) => [(first + k) % 10]);
    writeFileSync(join(dir, `data_batch_${b + 1}.bin`), cifarRecords(first, labels));
  }
  writeFileSync(
    join(dir, 'test_batch.bin'),
    cifarRecords(
      1000,
      Array.from({ length: 7 }, (_, k) => [9 - k]),
    ),
  );
}

/** Checks that example `k` of `images` holds generated record `record`, converted to HWC. */
function assertRecord(images: Uint8Array, k: number, record: number): void {
  for (const p of [0, 1, 31, 32, 500, 1023]) {
    for (let c = 0; c < 3; c++) {
      assert.equal(
        images[k * 3072 + p * 3 + c],
        pixelOf(record, c, p),
        `example ${k} position ${p} channel ${c}`,
      );
    }
  }
}

describe('cifar10 binary batches', () => {
  test('reads all five training batches in order and the test batch, CHW → HWC', async () => {
    const dataDir = join(root, 'ok');
    writeCifar10(dataDir, 4);
    const data = await loadDataset('cifar10', { dataDir });
    assert.deepEqual([data.train.count, data.test.count], [20, 7]);
    assert.deepEqual(
      [...data.train.labels],
      Array.from({ length: 20 }, (_, i) => i % 10),
    );
    assert.deepEqual([...data.test.labels], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0].slice(0, 7));
    for (const record of [0, 3, 4, 13, 19]) assertRecord(data.train.images, record, record);
    assertRecord(data.test.images, 6, 1006);
    assert.deepEqual(data.input, [32, 32, 3]);
    assert.deepEqual(data.augmentation, { padding: 4, flip: true });
    assert.equal(data.mean.length, 3);
    // Channel statistics of the generated pixels, computed here the plain way.
    for (let c = 0; c < 3; c++) {
      const values: number[] = [];
      for (let r = 0; r < 20; r++) for (let p = 0; p < 1024; p++) values.push(pixelOf(r, c, p) / 255);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      assert.ok(Math.abs(data.mean[c] - mean) < 1e-9 && Math.abs(data.std[c] - std) < 1e-9, `channel ${c}`);
    }
  });

  test('limit spreads the examples over all batches', async () => {
    const dataDir = join(root, 'ok');
    const data = await loadDataset('cifar10', { dataDir, limit: 5 });
    assert.deepEqual([data.train.count, data.test.count], [5, 5]);
    [0, 4, 8, 12, 16].forEach((record, k) => {
      assertRecord(data.train.images, k, record);
    });
  });

  test('missing, ragged and mislabelled files are input errors naming the file and layout', async () => {
    await rejectsInput(
      loadDataset('cifar10'),
      /^cifar10: no data directory .*; expected <data dir>\/cifar-10-batches-bin\/\{data_batch_1\.bin,/,
    );
    const dataDir = join(root, 'broken');
    const dir = join(dataDir, 'cifar-10-batches-bin');
    await rejectsInput(
      loadDataset('cifar10', { dataDir }),
      new RegExp(
        `^cifar10: missing ${dir}/data_batch_1\\.bin; expected <data dir>/cifar-10-batches-bin/\\{data_batch_1\\.bin,data_batch_2\\.bin,data_batch_3\\.bin,data_batch_4\\.bin,data_batch_5\\.bin,test_batch\\.bin\\} \\(the binary version\\)$`,
      ),
    );
    writeCifar10(dataDir, 2);
    writeFileSync(join(dir, 'data_batch_3.bin'), new Uint8Array(3073 + 100));
    await rejectsInput(
      loadDataset('cifar10', { dataDir }),
      /data_batch_3\.bin: 3173 bytes is not a whole number of 3073-byte records$/,
    );
    writeFileSync(join(dir, 'data_batch_3.bin'), cifarRecords(0, [[3], [10]]));
    await rejectsInput(
      loadDataset('cifar10', { dataDir }),
      /data_batch_3\.bin record 1: label 10 is outside 0\.\.9$/,
    );
  });
});

describe('cifar100 binary files', () => {
  test('uses the fine label of (coarse, fine) records', async () => {
    const dataDir = join(root, 'c100');
    const dir = join(dataDir, 'cifar-100-binary');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'train.bin'),
      cifarRecords(
        0,
        Array.from({ length: 6 }, (_, k) => [k % 20, 99 - k * 11]),
      ),
    );
    writeFileSync(join(dir, 'test.bin'), cifarRecords(50, [[19, 42]]));
    const data = await loadDataset('cifar100', { dataDir });
    assert.deepEqual([...data.train.labels], [99, 88, 77, 66, 55, 44]);
    assert.deepEqual([...data.test.labels], [42]);
    assert.equal(data.classes, 100);
    assertRecord(data.train.images, 5, 5);
    assertRecord(data.test.images, 0, 50);
    await rejectsInput(
      loadDataset('cifar100', { dataDir: join(root, 'nowhere') }),
      /^cifar100: missing .*cifar-100-binary\/train\.bin; expected <data dir>\/cifar-100-binary\/\{train\.bin,test\.bin\}/,
    );
  });
});
