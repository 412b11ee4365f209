import type { Architecture } from '../arch/graph.ts';
import type { LayoutName } from '../arch/layout.ts';
import { type LayerValues, readLayerFile, writeLayerFile } from './layer-arrays.ts';

/** Prunable-layer weights (e.g. a dense run's initial and final kernels), stored as float32. */
const WEIGHTS: LayerValues<Float32Array> = {
  what: 'weights',
  dtype: 'float32',
  create: (length) => new Float32Array(length),
  convert: (value) => {
    const number = Number(value);
    return Number.isFinite(number) ? number : `hold a non-finite value (${number})`;
  },
};

export const readWeightFile = (path: string, arch: Architecture, layout: LayoutName = 'torch') =>
  readLayerFile(path, arch, layout, WEIGHTS);
export const writeWeightFile = (
  path: string,
  arch: Architecture,
  weights: readonly Float32Array[],
  layout: LayoutName = 'torch',
) => writeLayerFile(path, arch, weights, layout, WEIGHTS);
