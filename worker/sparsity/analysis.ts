import type { Architecture } from '../arch/graph.ts';
import { countBits, type PackedMask } from './bits.ts';
import { channelGraphAlgebra } from './channel-graph.ts';
import { exactAlgebra } from './exact.ts';
import { type AnalysisMask, packedMasks } from './masks.ts';
import { type Net, netOf } from './net.ts';
import { type ConnectivityAlgebra, propagate } from './propagate.ts';

export type SparsityMethod = 'exact' | 'graph';
export const SPARSITY_METHODS: readonly SparsityMethod[] = ['exact', 'graph'];

const ALGEBRAS: Record<SparsityMethod, () => ConnectivityAlgebra<unknown>> = {
  exact: exactAlgebra as () => ConnectivityAlgebra<unknown>,
  graph: channelGraphAlgebra as () => ConnectivityAlgebra<unknown>,
};

export interface LayerSparsity {
  name: string;
  shape: number[];
  params: number;
  direct: number;
  effective: number;
}

export interface SparsityReport {
  /** The architecture's name, or the model file's for an imported network. */
  arch: string;
  total: number;
  direct: number;
  effective: number;
  directSparsity: number;
  effectiveSparsity: number;
  /** `Infinity` when nothing is left (JSON prints it as null). */
  directCompression: number;
  effectiveCompression: number;
  layers: LayerSparsity[];
}

export const sparsityOf = (count: number, params: number) => 1 - count / params;
export const compressionOf = (count: number, params: number) => (count === 0 ? Infinity : params / count);

/** A zoo architecture is analysed through its connectivity net; an imported net as it is. */
export const asNet = (arch: Architecture | Net): Net => ('outputs' in arch ? arch : netOf(arch));

/** Effective weight counts per layer (and optionally the effective masks), without the report. */
export function effectiveConnectivity(
  arch: Architecture | Net,
  masks: readonly AnalysisMask[],
  method: SparsityMethod,
  wantMasks = false,
) {
  return connectivityOfPacked(arch, packedMasks(masks), method, wantMasks);
}

function connectivityOfPacked(
  arch: Architecture | Net,
  masks: readonly PackedMask[],
  method: SparsityMethod,
  wantMasks: boolean,
) {
  return propagate(ALGEBRAS[method](), asNet(arch), masks, wantMasks);
}

/** The effective masks: the kept weights that lie on some input-to-output path. */
export function effectiveMasks(
  arch: Architecture | Net,
  masks: readonly AnalysisMask[],
  method: SparsityMethod = 'exact',
): Uint8Array[] {
  return effectiveConnectivity(arch, masks, method, true).map((layer) => layer.mask!);
}

export function analyze(
  arch: Architecture | Net,
  masks: readonly AnalysisMask[],
  method: SparsityMethod = 'exact',
): SparsityReport {
  const packed = packedMasks(masks);
  const connectivity = connectivityOfPacked(arch, packed, method, false);
  const layers = arch.layers.map((layer, k) => ({
    name: layer.name,
    shape: [...layer.shape],
    params: layer.params,
    direct: countBits(packed[k].words, 0, packed[k].length),
    effective: connectivity[k].effective,
  }));
  const total = arch.totalParams;
  const direct = layers.reduce((sum, layer) => sum + layer.direct, 0);
  const effective = layers.reduce((sum, layer) => sum + layer.effective, 0);
  return {
    arch: arch.name,
    total,
    direct,
    effective,
    directSparsity: sparsityOf(direct, total),
    effectiveSparsity: sparsityOf(effective, total),
    directCompression: compressionOf(direct, total),
    effectiveCompression: compressionOf(effective, total),
    layers,
  };
}
