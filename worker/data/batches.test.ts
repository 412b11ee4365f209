import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { Rng } from '../random.ts';
import { type Batch, batches, batchesPerEpoch } from './batches.ts';
import { channelStats } from './normalize.ts';
import type { Dataset } from './types.ts';

/** A dataset of `count` random h×w×c images whose label is their index (to trace them through batches). */
function syntheticDataset(count: number, shape: [number, number, number], padding: number | null): Dataset {
  const [h, w, c] = shape;
  const rng = new Rng(12345);
  const images = Uint8Array.from({ length: count * h * w * c }, () => rng.int(256));
  const train = { count, images, labels: Int32Array.from({ length: count }, (_, i) => i) };
  return {
    name: 'cifar10',
    input: shape,
    classes: count,
    train,
    test: train,
    ...channelStats(train, c),
    augmentation: padding === null ? null : { padding, flip: true },
  };
}

function collect(dataset: Dataset, options: Parameters<typeof batches>[2]): Batch[] {
  return [...batches(dataset, 'train', options)];
}

/** The normalized value the batch should hold for raw pixel `pixel` of channel `c`. */
function expected(dataset: Dataset, pixel: number, c: number): number {
  return Math.fround((pixel / 255 - dataset.mean[c]) / dataset.std[c]);
}

describe('per-channel statistics', () => {
  test('match a direct computation', () => {
    const data = syntheticDataset(5, [4, 3, 3], null);
    for (let c = 0; c < 3; c++) {
      const values = [...data.train.images].filter((_, i) => i % 3 === c).map((p) => p / 255);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
      assert.ok(Math.abs(data.mean[c] - mean) < 1e-12);
      assert.ok(Math.abs(data.std[c] - Math.sqrt(variance)) < 1e-12);
    }
  });
});

describe('batches', () => {
  const data = syntheticDataset(23, [5, 4, 3], 2);
  const pixels = 5 * 4 * 3;

  test('evaluation order: every example once, in order, normalized per channel', () => {
    const all = collect(data, { batchSize: 10 });
    assert.deepEqual(
      all.map((b) => b.size),
      [10, 10, 3],
    );
    assert.equal(batchesPerEpoch(23, 10), 3);
    assert.deepEqual(
      all.flatMap((b) => [...b.labels]),
      Array.from({ length: 23 }, (_, i) => i),
    );
    for (const [k, batch] of all.entries()) {
      assert.equal(batch.images.length, batch.size * pixels);
      for (let b = 0; b < batch.size; b++) {
        const source = (k * 10 + b) * pixels;
        for (let i = 0; i < pixels; i++) {
          assert.equal(batch.images[b * pixels + i], expected(data, data.train.images[source + i], i % 3));
        }
      }
    }
  });

  test('dropLast skips the partial batch', () => {
    assert.deepEqual(
      collect(data, { batchSize: 10, dropLast: true }).map((b) => b.size),
      [10, 10],
    );
    assert.equal(batchesPerEpoch(23, 10, true), 2);
  });

  test('shuffling is a permutation determined by (seed, epoch)', () => {
    const order = (seed: number, epoch: number) =>
      collect(data, { batchSize: 7, shuffle: { seed, epoch } }).flatMap((b) => [...b.labels]);
    const first = order(1, 0);
    assert.deepEqual(
      [...first].sort((a, b) => a - b),
      Array.from({ length: 23 }, (_, i) => i),
    );
    assert.deepEqual(order(1, 0), first, 'same seed and epoch, same order');
    assert.notDeepEqual(order(1, 1), first, 'a new epoch reshuffles');
    assert.notDeepEqual(order(2, 0), first, 'another seed, another order');
    assert.notDeepEqual(
      first,
      Array.from({ length: 23 }, (_, i) => i),
    );
  });

  test('shuffled images travel with their labels', () => {
    for (const batch of collect(data, { batchSize: 5, shuffle: { seed: 3, epoch: 2 } })) {
      for (let b = 0; b < batch.size; b++) {
        const source = batch.labels[b] * pixels;
        assert.equal(batch.images[b * pixels + 7], expected(data, data.train.images[source + 7], 7 % 3));
      }
    }
  });
});

describe('augmentation', () => {
  const [h, w, c] = [6, 5, 3];
  const padding = 2;
  const data = syntheticDataset(40, [h, w, c], padding);

  /** Reference: pad the raw image with zeros, crop at (oy, ox), maybe mirror, then normalize. */
  function reference(index: number, oy: number, ox: number, flip: boolean): Float32Array {
    const paddedW = w + 2 * padding;
    const padded = new Uint8Array((h + 2 * padding) * paddedW * c);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          padded[((y + padding) * paddedW + x + padding) * c + ch] =
            data.train.images[((index * h + y) * w + x) * c + ch];
        }
      }
    }
    const out = new Float32Array(h * w * c);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sx = ox + (flip ? w - 1 - x : x);
        for (let ch = 0; ch < c; ch++)
          out[(y * w + x) * c + ch] = expected(data, padded[((oy + y) * paddedW + sx) * c + ch], ch);
      }
    }
    return out;
  }

  test('each image is one zero-padded crop, maybe mirrored, and all crops and flips occur', () => {
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 12; epoch++) {
      for (const batch of collect(data, { batchSize: 16, shuffle: { seed: 9, epoch, augment: true } })) {
        for (let b = 0; b < batch.size; b++) {
          const image = batch.images.subarray(b * h * w * c, (b + 1) * h * w * c);
          const matches: string[] = [];
          for (let oy = 0; oy <= 2 * padding; oy++) {
            for (let ox = 0; ox <= 2 * padding; ox++) {
              for (const flip of [false, true]) {
                if (reference(batch.labels[b], oy, ox, flip).every((v, i) => v === image[i]))
                  matches.push(`${oy},${ox},${flip}`);
              }
            }
          }
          assert.equal(matches.length, 1, `image ${batch.labels[b]} matches exactly one crop: ${matches}`);
          seen.add(matches[0]);
        }
      }
    }
    assert.equal(seen.size, 2 * (2 * padding + 1) ** 2, `crops seen: ${[...seen].sort()}`);
  });

  test('is reproducible from (seed, epoch)', () => {
    const run = (seed: number) =>
      collect(data, { batchSize: 16, shuffle: { seed, epoch: 4, augment: true } });
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5), run(6));
  });

  test('datasets without augmentation refuse it', () => {
    const plain = syntheticDataset(3, [2, 2, 1], null);
    assert.throws(
      () => collect(plain, { batchSize: 2, shuffle: { seed: 1, epoch: 0, augment: true } }),
      (error: unknown) => error instanceof InputError && /has no augmentation/.test(error.message),
    );
    assert.throws(() => collect(plain, { batchSize: 0 }), RangeError);
  });
});
