/**
 * Tiny ImageNet (http://cs231n.stanford.edu/tiny-imagenet-200.zip) in its standard folder layout:
 * 200 classes of 64×64 RGB JPEGs. Classes are numbered in sorted wnid order (as torchvision's
 * ImageFolder does); the labelled validation set serves as the test split.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { InputError } from '../../common/errors.ts';
import { DATASET_SHAPES } from '../arch/datasets.ts';
import { DataFiles } from './files.ts';
import { gatherSplit } from './split.ts';
import type { DatasetLoader, Split } from './types.ts';

const [SIDE, , CHANNELS] = DATASET_SHAPES.tinyimagenet.input;
const { classes: CLASSES } = DATASET_SHAPES.tinyimagenet;
const FOLDER = 'tiny-imagenet-200';
const LAYOUT =
  `<data dir>/${FOLDER}/ with wnids.txt (200 class ids), train/<wnid>/images/*.JPEG, ` +
  'val/images/*.JPEG and val/val_annotations.txt (file<TAB>wnid<TAB>box)';
const files: DataFiles = new DataFiles('tinyimagenet', LAYOUT);

interface Example {
  path: string;
  label: number;
}

async function readText(path: string): Promise<string> {
  return new TextDecoder().decode(await files.read(path));
}

async function classIds(root: string): Promise<Map<string, number>> {
  const path = join(root, 'wnids.txt');
  const wnids = (await readText(path)).split(/\r?\n/).map((line) => line.trim());
  const unique = [...new Set(wnids.filter((line) => line !== ''))].sort();
  if (unique.length !== CLASSES)
    throw new InputError(`${path}: ${unique.length} class ids, expected ${CLASSES}`);
  return new Map(unique.map((wnid, label) => [wnid, label]));
}

async function trainExamples(root: string, classes: Map<string, number>): Promise<Example[]> {
  const examples: Example[] = [];
  for (const [wnid, label] of classes) {
    const dir = join(root, 'train', wnid, 'images');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      files.fail(`missing ${dir}`);
    }
    for (const name of names.filter(isJpeg).sort()) examples.push({ path: join(dir, name), label });
  }
  return examples;
}

async function valExamples(root: string, classes: Map<string, number>): Promise<Example[]> {
  const annotations = join(root, 'val', 'val_annotations.txt');
  const lines = (await readText(annotations)).split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.map((line, k) => {
    const [name, wnid] = line.split('\t');
    const label = classes.get(wnid ?? '');
    if (!name || label === undefined) {
      throw new InputError(`${annotations} line ${k + 1}: expected '<file>\\t<wnid from wnids.txt>\\t...'`);
    }
    return { path: join(root, 'val', 'images', name), label };
  });
}

function isJpeg(name: string): boolean {
  return /\.jpe?g$/i.test(name);
}

function decode(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    files.fail(`missing ${path}`);
  }
  let image: { width: number; height: number; data: Uint8Array };
  try {
    image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  } catch (error) {
    throw new InputError(`${path}: not a readable JPEG (${error instanceof Error ? error.message : error})`);
  }
  if (image.width !== SIDE || image.height !== SIDE) {
    throw new InputError(`${path}: image is ${image.width}×${image.height}, expected ${SIDE}×${SIDE}`);
  }
  return image.data;
}

function gatherImages(examples: Example[], limit: number | undefined): Split {
  return gatherSplit(
    {
      total: examples.length,
      pixels: SIDE * SIDE * CHANNELS,
      classes: CLASSES,
      read: (index, out, offset) => {
        out.set(decode(examples[index].path), offset);
        return examples[index].label;
      },
      describe: (index) => examples[index].path,
    },
    limit,
  );
}

export const tinyImageNet: DatasetLoader = {
  layout: LAYOUT,
  augmentation: { padding: 8, flip: true },
  async load(source) {
    const root = join(files.dataDir(source), FOLDER);
    const classes = await classIds(root);
    return {
      train: gatherImages(await trainExamples(root, classes), source.limit),
      test: gatherImages(await valExamples(root, classes), source.limit),
    };
  },
};
