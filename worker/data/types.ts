import type { DatasetName } from '../arch/datasets.ts';

export type { DatasetName } from '../arch/datasets.ts';

/** The images and labels of one split, as stored on disk: raw 8-bit pixels, NHWC. */
export interface Split {
  readonly count: number;
  /** count × h × w × c pixel values 0..255, image after image, row after row, channels last. */
  readonly images: Uint8Array;
  /** count class indices in [0, classes). */
  readonly labels: Int32Array;
}

/** Training-time augmentation (the reference's): random crop from a zero-padded image, flip. */
export interface Augmentation {
  readonly padding: number;
  readonly flip: boolean;
}

export interface Dataset {
  readonly name: DatasetName;
  readonly input: readonly [h: number, w: number, c: number];
  readonly classes: number;
  readonly train: Split;
  readonly test: Split;
  /** Per-channel mean and standard deviation of the training images scaled to [0, 1]. */
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** The augmentation this dataset supports, or null (MNIST-style data is not augmented). */
  readonly augmentation: Augmentation | null;
}

/** Where a loader finds its files and how much of them it reads. */
export interface DataSource {
  /** The data directory (option or ESWEEP_DATA_DIR); undefined when neither was given. */
  readonly dataDir: string | undefined;
  /** At most this many examples per split, spread evenly over the files so every class appears. */
  readonly limit: number | undefined;
}

/** One dataset format: how to read its train and test splits. */
export interface DatasetLoader {
  /** The expected files, in words, for error messages. */
  readonly layout: string;
  readonly augmentation: Augmentation | null;
  load(source: DataSource): Promise<{ train: Split; test: Split }>;
}
