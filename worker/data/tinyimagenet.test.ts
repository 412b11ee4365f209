import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { loadDataset } from './index.ts';
import { colourOf, jpegOf, writeTinyImageNet } from './test-fixtures.ts';

function rejectsInput(promise: Promise<unknown>, message: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

/** Every pixel of example `k` is within JPEG error of the colour of `label`. */
function assertColour(images: Uint8Array, k: number, label: number): void {
  const colour = colourOf(label);
  for (let p = 0; p < 64 * 64; p += 97) {
    for (let c = 0; c < 3; c++) {
      const value = images[k * 12288 + p * 3 + c];
      assert.ok(
        Math.abs(value - colour[c]) <= 4,
        `example ${k} pixel ${p} channel ${c}: ${value} vs ${colour[c]}`,
      );
    }
  }
}

describe('tinyimagenet folder layout', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'esweep-tin-'));
  const root = join(dataDir, 'tiny-imagenet-200');
  let wnids: string[] = [];
  before(() => {
    wnids = writeTinyImageNet(root, 2, 9);
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('reads train folders in sorted-wnid label order and the annotated validation set', async () => {
    const data = await loadDataset('tinyimagenet', { dataDir });
    assert.deepEqual([data.train.count, data.test.count], [400, 9]);
    assert.deepEqual(data.input, [64, 64, 3]);
    assert.equal(data.classes, 200);
    assert.deepEqual(data.augmentation, { padding: 8, flip: true });
    for (const k of [0, 1, 2, 201, 399]) {
      assert.equal(data.train.labels[k], Math.floor(k / 2));
      assertColour(data.train.images, k, Math.floor(k / 2));
    }
    for (let k = 0; k < 9; k++) {
      assert.equal(data.test.labels[k], (k * 37) % 200);
      assertColour(data.test.images, k, (k * 37) % 200);
    }
  });

  test('limit spreads over the class folders', async () => {
    const data = await loadDataset('tinyimagenet', { dataDir, limit: 10 });
    assert.deepEqual([...data.train.labels], [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]);
    assert.equal(data.test.count, 9);
  });

  test('missing and malformed files are input errors naming the file and layout', async () => {
    const layout =
      /; expected <data dir>\/tiny-imagenet-200\/ with wnids\.txt \(200 class ids\), train\/<wnid>\/images\/\*\.JPEG, val\/images\/\*\.JPEG and val\/val_annotations\.txt/;
    await rejectsInput(
      loadDataset('tinyimagenet', { dataDir: join(dataDir, 'nowhere') }),
      new RegExp(`^tinyimagenet: missing .*nowhere/tiny-imagenet-200/wnids\\.txt${layout.source}`),
    );

    const image = join(root, 'train', wnids[5], 'images', `${wnids[5]}_1.JPEG`);
    writeFileSync(image, jpegOf(colourOf(5), 32));
    await rejectsInput(
      loadDataset('tinyimagenet', { dataDir }),
      new RegExp(`^${image}: image is 32×32, expected 64×64$`),
    );
    writeFileSync(image, 'not a jpeg');
    await rejectsInput(
      loadDataset('tinyimagenet', { dataDir }),
      new RegExp(`^${image}: not a readable JPEG`),
    );
    writeFileSync(image, jpegOf(colourOf(5)));

    rmSync(join(root, 'train', wnids[7]), { recursive: true });
    await rejectsInput(
      loadDataset('tinyimagenet', { dataDir }),
      new RegExp(`^tinyimagenet: missing ${root}/train/${wnids[7]}/images${layout.source}`),
    );
    writeFileSync(join(root, 'wnids.txt'), wnids.slice(0, 199).join('\n'));
    await rejectsInput(loadDataset('tinyimagenet', { dataDir }), /wnids\.txt: 199 class ids, expected 200$/);
  });

  test('an annotation with an unknown wnid is an input error with its line', async () => {
    const other = mkdtempSync(join(tmpdir(), 'esweep-tin-'));
    try {
      const otherRoot = join(other, 'tiny-imagenet-200');
      writeTinyImageNet(otherRoot, 1, 2);
      writeFileSync(join(otherRoot, 'val', 'val_annotations.txt'), 'val_0.JPEG\tn99999999\t0\t0\t1\t1\n');
      await rejectsInput(
        loadDataset('tinyimagenet', { dataDir: other }),
        /val_annotations\.txt line 1: expected '<file>\\t<wnid from wnids\.txt>\\t\.\.\.'$/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
