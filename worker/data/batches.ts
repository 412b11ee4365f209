/** Mini-batches of normalized float images: in stored order for evaluation, seeded per epoch for training. */
import { InputError } from '../../common/errors.ts';
import { Rng } from '../random.ts';
import { augmentInto, drawCropAndFlip } from './augment.ts';
import { normalizationTable, normalizeInto } from './normalize.ts';
import type { Dataset } from './types.ts';

export interface BatchOptions {
  batchSize: number;
  /**
   * Shuffle (and, with `augment`, crop and flip) from (seed, epoch) alone, so any epoch can be
   * replayed or resumed exactly. Omit to keep the stored order (evaluation).
   */
  shuffle?: { seed: number; epoch: number; augment?: boolean };
  /** Skip a final partial batch (training with batch norm); default false. */
  dropLast?: boolean;
}

export interface Batch {
  size: number;
  /** size × h × w × c normalized values, NHWC. */
  images: Float32Array;
  labels: Int32Array;
}

export function batchesPerEpoch(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

export function* batches(dataset: Dataset, split: 'train' | 'test', options: BatchOptions): Generator<Batch> {
  const { batchSize, shuffle, dropLast = false } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batch size ${batchSize} must be a positive integer`);
  const augmentation = shuffle?.augment ? dataset.augmentation : null;
  if (shuffle?.augment && !augmentation) throw new InputError(`dataset ${dataset.name} has no augmentation`);
  const { images, labels, count } = dataset[split];
  const shape = dataset.input;
  const pixels = shape[0] * shape[1] * shape[2];
  const table = normalizationTable(dataset);
  const rng = shuffle ? Rng.derive(shuffle.seed, `batches/${split}/epoch/${shuffle.epoch}`) : null;
  const order = new Uint32Array(count);
  for (let k = 0; k < count; k++) order[k] = k;
  rng?.shuffle(order);

  for (let batch = 0; batch < batchesPerEpoch(count, batchSize, dropLast); batch++) {
    const start = batch * batchSize;
    const size = Math.min(batchSize, count - start);
    const out: Batch = { size, images: new Float32Array(size * pixels), labels: new Int32Array(size) };
    for (let b = 0; b < size; b++) {
      const index = order[start + b];
      out.labels[b] = labels[index];
      if (augmentation && rng) {
        augmentInto(
          images,
          index * pixels,
          out.images,
          b * pixels,
          shape,
          table,
          drawCropAndFlip(augmentation, rng),
        );
      } else {
        normalizeInto(images, index * pixels, out.images, b * pixels, pixels, shape[2], table);
      }
    }
    yield out;
  }
}
