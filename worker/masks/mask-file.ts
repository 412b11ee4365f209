import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Architecture } from '../arch/graph.ts';
import { fromTorch, LAYOUTS, type LayoutName, toTorch } from '../arch/layout.ts';
import { InputError } from '../errors.ts';
import { type NdArray, readNpz, writeNpz } from '../io/npz.ts';
import type { MaskSet } from '../sparsity/masks.ts';

/** Mask arrays keyed by layer name, as an npz holds them: non-zero = kept. */
export function masksFromArrays(
  arch: Architecture,
  arrays: Map<string, NdArray>,
  layoutName: LayoutName,
): Uint8Array[] {
  const layout = LAYOUTS[layoutName];
  const expected = new Set(arch.layers.map((layer) => layer.name));
  const missing = [...expected].filter((name) => !arrays.has(name));
  if (missing.length > 0) throw new InputError(`no mask for layer(s) ${missing.join(', ')} of ${arch.name}`);
  const extra = [...arrays.keys()].filter((name) => !expected.has(name));
  if (extra.length > 0) {
    throw new InputError(
      `unexpected array(s) ${extra.join(', ')}: ${arch.name} has layers ${[...expected].join(', ')}`,
    );
  }
  return arch.layers.map((layer) => {
    const array = arrays.get(layer.name)!;
    const shape = layout.shape(layer);
    if (array.shape.join() !== shape.join()) {
      throw new InputError(
        `layer ${layer.name}: shape (${array.shape.join(', ')}) does not match ${layout.name} layout (${shape.join(', ')})`,
      );
    }
    const kept = new Uint8Array(layer.params);
    const data = array.data;
    for (let k = 0; k < kept.length; k++) {
      const value = data[k];
      if (typeof value === 'number' && Number.isNaN(value)) {
        throw new InputError(`layer ${layer.name}: mask holds NaN (at flat index ${k})`);
      }
      kept[k] = value ? 1 : 0;
    }
    return toTorch(layout, layer, kept);
  });
}

export function masksToArrays(
  arch: Architecture,
  masks: MaskSet,
  layoutName: LayoutName,
): Map<string, NdArray> {
  const layout = LAYOUTS[layoutName];
  return new Map(
    arch.layers.map((layer, k) => [
      layer.name,
      { dtype: 'bool', shape: layout.shape(layer), data: fromTorch(layout, layer, masks[k]) },
    ]),
  );
}

export async function readMaskFile(
  path: string,
  arch: Architecture,
  layout: LayoutName = 'torch',
): Promise<Uint8Array[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new InputError(`cannot read mask file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  try {
    return masksFromArrays(arch, readNpz(bytes), layout);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(`${path}: ${error.message}`);
    throw error;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a mask file. */
export async function writeMaskFile(
  path: string,
  arch: Architecture,
  masks: MaskSet,
  layout: LayoutName = 'torch',
): Promise<void> {
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, writeNpz(masksToArrays(arch, masks, layout), { compress: true }));
  await rename(partial, path);
}
