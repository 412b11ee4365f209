import type { Architecture } from '../arch/graph.ts';

/**
 * One 0/1 mask per prunable layer, aligned with `arch.layers`, each in torch layout
 * (dense `(out, in)`, conv `(out, in, kh, kw)`, flattened row-major). 1 = the weight is kept.
 */
export type MaskSet = readonly Uint8Array[];

export function denseMasks(arch: Architecture): Uint8Array[] {
  return arch.layers.map((layer) => new Uint8Array(layer.params).fill(1));
}

export function countKept(mask: Uint8Array): number {
  let kept = 0;
  for (let k = 0; k < mask.length; k++) kept += mask[k];
  return kept;
}
