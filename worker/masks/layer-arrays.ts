import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../../common/errors.ts';
import { readInputBytes } from '../../common/validation.ts';
import type { Architecture, PrunableLayer } from '../arch/graph.ts';
import { fromTorch, LAYOUTS, type LayoutName, toTorch } from '../arch/layout.ts';
import { type NdArray, readNpz, writeNpz } from '../io/npz.ts';

/** What one per-layer value becomes in memory (a mask bit, a weight), with its validity check. */
export interface LayerValues<T extends Uint8Array | Float32Array> {
  /** "mask" or "weights", for messages. */
  readonly what: string;
  create(length: number): T;
  /** The stored value, or a message saying why it is not acceptable. */
  convert(value: number | bigint): number | string;
  readonly dtype: 'bool' | 'float32';
}

/**
 * Per-layer arrays keyed by layer name (an npz's content) as torch-layout values aligned with
 * `arch.layers`; missing or extra layers, wrong shapes and bad values are input errors.
 */
export function fromLayerArrays<T extends Uint8Array | Float32Array>(
  arch: Architecture,
  arrays: Map<string, NdArray>,
  layoutName: LayoutName,
  values: LayerValues<T>,
): T[] {
  const layout = LAYOUTS[layoutName];
  const expected = new Set(arch.layers.map((layer) => layer.name));
  const missing = [...expected].filter((name) => !arrays.has(name));
  if (missing.length > 0)
    throw new InputError(`no ${values.what} for layer(s) ${missing.join(', ')} of ${arch.name}`);
  const extra = [...arrays.keys()].filter((name) => !expected.has(name));
  if (extra.length > 0) {
    throw new InputError(
      `unexpected array(s) ${extra.join(', ')}: ${arch.name} has layers ${[...expected].join(', ')}`,
    );
  }
  return arch.layers.map((layer: PrunableLayer) => {
    const array = arrays.get(layer.name)!;
    const shape = layout.shape(layer);
    if (array.shape.join() !== shape.join()) {
      throw new InputError(
        `layer ${layer.name}: shape (${array.shape.join(', ')}) does not match ${layout.name} layout (${shape.join(', ')})`,
      );
    }
    const out = values.create(layer.params);
    const data = array.data;
    for (let k = 0; k < out.length; k++) {
      const value = values.convert(data[k]);
      if (typeof value === 'string')
        throw new InputError(`layer ${layer.name}: ${values.what} ${value} (at flat index ${k})`);
      out[k] = value;
    }
    return toTorch(layout, layer, out);
  });
}

export function toLayerArrays<T extends Uint8Array | Float32Array>(
  arch: Architecture,
  perLayer: readonly T[],
  layoutName: LayoutName,
  values: LayerValues<T>,
): Map<string, NdArray> {
  const layout = LAYOUTS[layoutName];
  return new Map(
    arch.layers.map((layer, k) => [
      layer.name,
      {
        dtype: values.dtype,
        shape: layout.shape(layer),
        data: fromTorch(layout, layer, perLayer[k]),
      } as NdArray,
    ]),
  );
}

export async function readLayerFile<T extends Uint8Array | Float32Array>(
  path: string,
  arch: Architecture,
  layout: LayoutName,
  values: LayerValues<T>,
): Promise<T[]> {
  const bytes = await readInputBytes(path, `${values.what} file`);
  try {
    return fromLayerArrays(arch, readNpz(bytes), layout, values);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export async function writeLayerFile<T extends Uint8Array | Float32Array>(
  path: string,
  arch: Architecture,
  perLayer: readonly T[],
  layout: LayoutName,
  values: LayerValues<T>,
): Promise<void> {
  const partial = `${path}.${process.pid}.partial`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(partial, writeNpz(toLayerArrays(arch, perLayer, layout, values), { compress: true }));
  await rename(partial, path);
}
