/** Assembling a split from numbered records, honouring `limit` and checking labels. */
import { InputError } from '../../common/errors.ts';
import type { Split } from './types.ts';

/**
 * The record indices to read: all of them, or `limit` spread evenly over the file order, so that
 * files sorted by class (TinyImageNet's train folders) still yield every class.
 */
export function pickIndices(total: number, limit: number | undefined): Uint32Array {
  const count = limit === undefined ? total : Math.min(total, limit);
  const indices = new Uint32Array(count);
  for (let k = 0; k < count; k++) indices[k] = Math.floor((k * total) / count);
  return indices;
}

export interface RecordReader {
  /** Number of records in the file(s). */
  readonly total: number;
  /** h × w × c of one image. */
  readonly pixels: number;
  readonly classes: number;
  /** Copies record `index`'s pixels (HWC) into `images` at `offset` and returns its label. */
  read(index: number, images: Uint8Array, offset: number): number;
  /** Names record `index` in error messages, e.g. "data_batch_2.bin record 17". */
  describe(index: number): string;
}

export function gatherSplit(reader: RecordReader, limit: number | undefined): Split {
  const indices = pickIndices(reader.total, limit);
  const images = new Uint8Array(indices.length * reader.pixels);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const label = reader.read(indices[k], images, k * reader.pixels);
    if (!Number.isInteger(label) || label < 0 || label >= reader.classes) {
      throw new InputError(
        `${reader.describe(indices[k])}: label ${label} is outside 0..${reader.classes - 1}`,
      );
    }
    labels[k] = label;
  }
  return { count: indices.length, images, labels };
}
