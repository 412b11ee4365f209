/**
 * Datasets for training: `loadDataset(name, {dataDir, limit})` and `batches(...)`. Each dataset
 * is one loader strategy in the registry below; shapes and class counts come from the
 * architecture zoo's dataset table, so the two can never disagree.
 */

import { InputError } from '../../common/errors.ts';
import { type DatasetName, datasetShape } from '../arch/datasets.ts';
import { cifar10, cifar100 } from './cifar.ts';
import { dataDirFromEnv } from './files.ts';
import { fashionMnist, mnist } from './mnist.ts';
import { channelStats } from './normalize.ts';
import { tinyImageNet } from './tinyimagenet.ts';
import type { Dataset, DatasetLoader } from './types.ts';

export { type Batch, type BatchOptions, batches, batchesPerEpoch } from './batches.ts';
export type { Augmentation, Dataset, DatasetName, Split } from './types.ts';

const LOADERS: Record<DatasetName, DatasetLoader> = {
  mnist,
  'fashion-mnist': fashionMnist,
  cifar10,
  cifar100,
  tinyimagenet: tinyImageNet,
};

export interface LoadOptions {
  /** Where cifar10/cifar100/tinyimagenet/fashion-mnist live; defaults to ESWEEP_DATA_DIR. */
  dataDir?: string;
  /** At most this many examples per split (smoke runs, tests), spread evenly over the files. */
  limit?: number;
}

export async function loadDataset(name: string, options: LoadOptions = {}): Promise<Dataset> {
  const { input, classes } = datasetShape(name);
  const dataset = name as DatasetName;
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InputError(`dataset limit ${limit} must be a positive integer`);
  }
  const loader = LOADERS[dataset];
  const { train, test } = await loader.load({ dataDir: options.dataDir ?? dataDirFromEnv(), limit });
  if (train.count === 0) throw new InputError(`${dataset}: no training examples; expected ${loader.layout}`);
  return {
    name: dataset,
    input,
    classes,
    train,
    test,
    ...channelStats(train, input[2]),
    augmentation: loader.augmentation,
  };
}
