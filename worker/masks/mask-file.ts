import type { Architecture } from '../arch/graph.ts';
import type { LayoutName } from '../arch/layout.ts';
import type { NdArray } from '../io/npz.ts';
import type { MaskSet } from '../sparsity/masks.ts';
import {
  fromLayerArrays,
  type LayerValues,
  readLayerFile,
  toLayerArrays,
  writeLayerFile,
} from './layer-arrays.ts';

/** Masks: any numeric dtype, non-zero = kept (as PyTorch and TensorFlow save them). */
const MASK: LayerValues<Uint8Array> = {
  what: 'mask',
  dtype: 'bool',
  create: (length) => new Uint8Array(length),
  convert: (value) => (typeof value === 'number' && Number.isNaN(value) ? 'holds NaN' : value ? 1 : 0),
};

export const masksFromArrays = (arch: Architecture, arrays: Map<string, NdArray>, layout: LayoutName) =>
  fromLayerArrays(arch, arrays, layout, MASK);
export const masksToArrays = (arch: Architecture, masks: MaskSet, layout: LayoutName) =>
  toLayerArrays(arch, masks, layout, MASK);
export const readMaskFile = (path: string, arch: Architecture, layout: LayoutName = 'torch') =>
  readLayerFile(path, arch, layout, MASK);
export const writeMaskFile = (
  path: string,
  arch: Architecture,
  masks: MaskSet,
  layout: LayoutName = 'torch',
) => writeLayerFile(path, arch, masks, layout, MASK);
