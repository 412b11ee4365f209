import type { Architecture } from '../arch/graph.ts';
import { PackedMask, packMask } from './bits.ts';
import { ByteWords, countSet } from './bytes.ts';

/**
 * One 0/1 mask per prunable layer, aligned with `arch.layers`, each in torch layout
 * (dense `(out, in)`, conv `(out, in, kh, kw)`, flattened row-major). 1 = the weight is kept.
 */
export type MaskSet = readonly Uint8Array[];

/** Every weight kept: the masks of the unpruned network (fresh arrays the caller may change). */
export function denseMasks(arch: Architecture): Uint8Array[] {
  return arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
}

export function countKept(mask: Uint8Array): number {
  return countSet(new ByteWords(mask), 0, mask.length);
}

/** A mask as the analysis takes it: one byte per weight (training's form) or packed (an imported model's). */
export type AnalysisMask = Uint8Array | PackedMask;

/** The masks packed one bit per weight, the form the analysis works on (packed ones are kept as they are). */
export const packedMasks = (masks: readonly AnalysisMask[]): PackedMask[] =>
  masks.map((mask) => (mask instanceof PackedMask ? mask : packMask(mask)));
