import { InputError } from '../../common/errors.ts';

/** What the architecture zoo needs to know about a dataset: its image shape and class count. */
export interface DatasetShape {
  readonly input: readonly [h: number, w: number, c: number];
  readonly classes: number;
}

export const DATASET_SHAPES = {
  mnist: { input: [28, 28, 1], classes: 10 },
  'fashion-mnist': { input: [28, 28, 1], classes: 10 },
  cifar10: { input: [32, 32, 3], classes: 10 },
  cifar100: { input: [32, 32, 3], classes: 100 },
  tinyimagenet: { input: [64, 64, 3], classes: 200 },
} as const satisfies Record<string, DatasetShape>;

export type DatasetName = keyof typeof DATASET_SHAPES;
export const DATASET_NAMES = Object.keys(DATASET_SHAPES) as DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(DATASET_SHAPES, name);
}

export function datasetShape(name: string): DatasetShape {
  if (!isDatasetName(name)) {
    throw new InputError(`unknown dataset '${name}' (expected one of ${DATASET_NAMES.join(', ')})`);
  }
  return DATASET_SHAPES[name];
}
