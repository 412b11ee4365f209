/**
 * CIFAR-10 and CIFAR-100, binary versions (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size
 * records of label byte(s) then 3072 pixel bytes, channel-major (1024 R, 1024 G, 1024 B).
 */
import { join } from 'node:path';
import { InputError } from '../../common/errors.ts';
import { DATASET_SHAPES } from '../arch/datasets.ts';
import { DataFiles } from './files.ts';
import { gatherSplit } from './split.ts';
import type { DatasetLoader, Split } from './types.ts';

const [SIDE, , CHANNELS] = DATASET_SHAPES.cifar10.input;
const PLANE = SIDE * SIDE;
const PIXELS = PLANE * CHANNELS;

interface CifarFormat {
  name: string;
  folder: string;
  trainFiles: string[];
  testFiles: string[];
  classes: number;
  /** Bytes before the pixels, and which of them is the label we train on. */
  headerBytes: number;
  labelByte: number;
}

function cifarLoader(format: CifarFormat): DatasetLoader {
  const record = format.headerBytes + PIXELS;
  const layout = `<data dir>/${format.folder}/{${[...format.trainFiles, ...format.testFiles].join(',')}} (the binary version)`;
  const files = new DataFiles(format.name, layout);

  const loadSplit = async (dir: string, names: string[], limit: number | undefined): Promise<Split> => {
    const paths = names.map((name) => join(dir, name));
    // Read in parallel, but report the first problem in file order, not whichever read lost the race.
    const settled = await Promise.allSettled(paths.map((path) => files.read(path)));
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const contents = settled.map((result) => (result as PromiseFulfilledResult<Uint8Array>).value);
    contents.forEach((bytes, k) => {
      if (bytes.length % record !== 0) {
        throw new InputError(
          `${paths[k]}: ${bytes.length} bytes is not a whole number of ${record}-byte records`,
        );
      }
    });
    // Records are numbered across the files in order; `starts[k]` is the first of file k.
    const starts = contents.map((_, k) =>
      contents.slice(0, k).reduce((sum, bytes) => sum + bytes.length / record, 0),
    );
    const locate = (index: number) => {
      let k = starts.length - 1;
      while (starts[k] > index) k--;
      return { k, local: index - starts[k] };
    };
    return gatherSplit(
      {
        total: contents.reduce((sum, bytes) => sum + bytes.length / record, 0),
        pixels: PIXELS,
        classes: format.classes,
        read: (index, out, offset) => {
          const { k, local } = locate(index);
          const bytes = contents[k];
          const base = local * record;
          const pixels = base + format.headerBytes;
          for (let p = 0; p < PLANE; p++) {
            for (let c = 0; c < CHANNELS; c++) out[offset + p * CHANNELS + c] = bytes[pixels + c * PLANE + p];
          }
          return bytes[base + format.labelByte];
        },
        describe: (index) => {
          const { k, local } = locate(index);
          return `${paths[k]} record ${local}`;
        },
      },
      limit,
    );
  };

  return {
    layout,
    augmentation: { padding: 4, flip: true },
    async load(source) {
      const dir = join(files.dataDir(source), format.folder);
      return {
        train: await loadSplit(dir, format.trainFiles, source.limit),
        test: await loadSplit(dir, format.testFiles, source.limit),
      };
    },
  };
}

export const cifar10 = cifarLoader({
  name: 'cifar10',
  folder: 'cifar-10-batches-bin',
  trainFiles: [1, 2, 3, 4, 5].map((n) => `data_batch_${n}.bin`),
  testFiles: ['test_batch.bin'],
  classes: DATASET_SHAPES.cifar10.classes,
  headerBytes: 1,
  labelByte: 0,
});

export const cifar100 = cifarLoader({
  name: 'cifar100',
  folder: 'cifar-100-binary',
  trainFiles: ['train.bin'],
  testFiles: ['test.bin'],
  classes: DATASET_SHAPES.cifar100.classes,
  headerBytes: 2,
  labelByte: 1, // the fine label (100 classes); byte 0 is the coarse superclass
});
