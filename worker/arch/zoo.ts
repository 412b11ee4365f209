import { InputError } from '../../common/errors.ts';
import { type DatasetName, datasetShape } from './datasets.ts';
import { type Architecture, GraphBuilder } from './graph.ts';

/** Conv (or dense) followed by batch norm and ReLU, as the reference trains every hidden layer. */
function convBlock(
  g: GraphBuilder,
  x: number,
  name: string,
  channels: number,
  kernel: number,
  stride = 1,
): number {
  return g.relu(g.batchnorm(g.conv(x, name, channels, kernel, { stride })));
}

function denseBlock(g: GraphBuilder, x: number, name: string, features: number): number {
  return g.relu(g.batchnorm(g.dense(x, name, features)));
}

function lenet300100(g: GraphBuilder, classes: number): void {
  let x = g.flatten(g.inputId);
  x = denseBlock(g, x, 'fc1', 300);
  x = denseBlock(g, x, 'fc2', 100);
  g.dense(x, 'fc3', classes, { bias: true });
}

function lenet5(g: GraphBuilder, classes: number): void {
  let x = g.relu(g.batchnorm(g.conv(g.inputId, 'conv1', 6, 5, { padding: 'valid' })));
  x = g.pool(x, 'avg');
  x = g.relu(g.batchnorm(g.conv(x, 'conv2', 16, 5, { padding: 'valid' })));
  x = g.flatten(g.pool(x, 'avg'));
  x = denseBlock(g, x, 'fc1', 120);
  x = denseBlock(g, x, 'fc2', 84);
  g.dense(x, 'fc3', classes, { bias: true });
}

/** Convs per stage (each stage ends in a max pool); the five stages have 64…512 channels. */
const VGG_CHANNELS = [64, 128, 256, 512, 512];

function vgg(convsPerStage: readonly number[]) {
  return (g: GraphBuilder, classes: number): void => {
    let x = g.inputId;
    let convs = 0;
    convsPerStage.forEach((count, stage) => {
      for (let k = 0; k < count; k++) x = convBlock(g, x, `conv${++convs}`, VGG_CHANNELS[stage], 3);
      x = g.pool(x, 'max');
    });
    // Identity on 32×32 inputs (1×1 after five pools); keeps fc 512→classes on larger inputs.
    g.dense(g.globalAvgPool(x), 'fc', classes, { bias: true });
  };
}

function basicBlock(g: GraphBuilder, x: number, prefix: string, channels: number, stride: number): number {
  const y = convBlock(g, x, `${prefix}.conv1`, channels, 3, stride);
  const main = g.batchnorm(g.conv(y, `${prefix}.conv2`, channels, 3));
  const shortcut =
    stride === 1 && g.shapeOf(x)[0] === channels
      ? x
      : g.batchnorm(g.conv(x, `${prefix}.shortcut`, channels, 1, { stride }));
  return g.relu(g.add(main, shortcut));
}

function resnet18(g: GraphBuilder, classes: number): void {
  let x = convBlock(g, g.inputId, 'conv1', 64, 3);
  [64, 128, 256, 512].forEach((channels, stage) => {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      x = basicBlock(g, x, `layer${stage + 1}.${block}`, channels, stride);
    }
  });
  g.dense(g.globalAvgPool(x), 'fc', classes);
}

interface ZooEntry {
  readonly defaultDataset: DatasetName;
  /** Conv nets get uniform_plus quotas (first layer dense); MLPs do not. */
  readonly convolutional: boolean;
  readonly build: (g: GraphBuilder, classes: number) => void;
  /** The smallest image side it takes, with the family named in the message (VGG's five pools). */
  readonly minInput?: { side: number; family: string };
}

// Five 2×2 max pools leave 1×1 maps from 32×32 images.
const VGG_INPUT = { side: 32, family: 'VGG' };

const ZOO = {
  lenet300100: { defaultDataset: 'mnist', convolutional: false, build: lenet300100 },
  lenet5: { defaultDataset: 'cifar10', convolutional: true, build: lenet5 },
  vgg16: { defaultDataset: 'cifar10', convolutional: true, build: vgg([2, 2, 3, 3, 3]), minInput: VGG_INPUT },
  vgg19: {
    defaultDataset: 'cifar100',
    convolutional: true,
    build: vgg([2, 2, 4, 4, 4]),
    minInput: VGG_INPUT,
  },
  resnet18: { defaultDataset: 'tinyimagenet', convolutional: true, build: resnet18 },
} as const satisfies Record<string, ZooEntry>;

export type ArchitectureName = keyof typeof ZOO;
export const ARCHITECTURE_NAMES = Object.keys(ZOO) as ArchitectureName[];

function zooEntry(name: string): ZooEntry {
  if (!Object.hasOwn(ZOO, name)) {
    throw new InputError(`unknown architecture '${name}' (expected one of ${ARCHITECTURE_NAMES.join(', ')})`);
  }
  return ZOO[name as ArchitectureName];
}

export function isConvolutional(name: string): boolean {
  return zooEntry(name).convolutional;
}

const cache = new Map<string, Architecture>();

export interface ArchitectureOptions {
  /**
   * Replaces the dataset's image height and width: the same layers, channels and classes on
   * smaller images, for tests whose reference backend is too slow at full size. The result is
   * labelled with the size (dataset `tinyimagenet@16x16`): it fits no dataset's real images, and
   * nothing keyed on the dataset (its files, dense weight files) may take it for the real one.
   */
  imageSize?: number;
}

/** The architecture `name` shaped for `dataset` (its default dataset when omitted). Built once. */
export function architecture(
  name: string,
  dataset?: string,
  options: ArchitectureOptions = {},
): Architecture {
  const entry = zooEntry(name);
  const datasetName = dataset ?? entry.defaultDataset;
  const {
    input: [h, w, c],
    classes,
  } = datasetShape(datasetName);
  const input = [options.imageSize ?? h, options.imageSize ?? w, c] as const;
  const resized = input[0] !== h || input[1] !== w;
  const label = resized ? `${datasetName}@${input[0]}x${input[1]}` : datasetName;
  const min = entry.minInput;
  if (min && (input[0] < min.side || input[1] < min.side)) {
    throw new InputError(
      `${min.family} needs inputs of at least ${min.side}×${min.side}, got ${input[0]}×${input[1]} (${name} on ${label})`,
    );
  }
  const key = `${name}/${label}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const g = new GraphBuilder(input);
  entry.build(g, classes);
  const arch = g.build({ name, dataset: label, input, classes });
  cache.set(key, arch);
  return arch;
}
