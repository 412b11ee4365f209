import type { PrunableLayer } from './graph.ts';

/**
 * How a framework stores a prunable layer's weights. esweep works in the torch layout; the keras
 * layout is dense `(in, out)` with flattened inputs ordered (y, x, channel), conv `(kh, kw, in, out)`.
 */
export interface WeightLayout {
  readonly name: LayoutName;
  shape(layer: PrunableLayer): number[];
  /** For each torch-layout position, the position of the same weight in this layout. */
  positions(layer: PrunableLayer): Int32Array | null;
}

export const LAYOUT_NAMES = ['torch', 'keras'] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

const torch: WeightLayout = {
  name: 'torch',
  shape: (layer) => [...layer.shape],
  positions: () => null,
};

/** For values in (out, in, h, w) order, the position of each in (h, w, in, out) order. */
function outLastPositions(outs: number, ins: number, h: number, w: number): Int32Array {
  const positions = new Int32Array(outs * ins * h * w);
  let t = 0;
  for (let o = 0; o < outs; o++) {
    for (let i = 0; i < ins; i++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) positions[t++] = ((y * w + x) * ins + i) * outs + o;
      }
    }
  }
  return positions;
}

/** Permutations are reused: the model converts every gradient it hands to a pruner. */
const kerasPositions = new WeakMap<PrunableLayer, Int32Array>();

const keras: WeightLayout = {
  name: 'keras',
  shape(layer) {
    const [o, i, kh, kw] = layer.shape;
    return layer.kind === 'dense' ? [i, o] : [kh, kw, i, o];
  },
  positions(layer) {
    let positions = kerasPositions.get(layer);
    if (positions) return positions;
    const node = layer.node;
    // A dense layer's inputs are a flattened (channel, y, x) volume: it transposes like a conv.
    positions =
      node.kind === 'dense'
        ? outLastPositions(node.outFeatures, ...(node.flattenedFrom ?? [node.inFeatures, 1, 1]))
        : outLastPositions(node.outChannels, node.inChannels, node.kernel, node.kernel);
    kerasPositions.set(layer, positions);
    return positions;
  },
};

export const LAYOUTS: Record<LayoutName, WeightLayout> = { torch, keras };

/** Copies torch-layout values into `layout` order. */
export function fromTorch<T extends Uint8Array | Float32Array>(
  layout: WeightLayout,
  layer: PrunableLayer,
  torchData: T,
): T {
  const positions = layout.positions(layer);
  if (!positions) return torchData;
  const out = new (torchData.constructor as new (n: number) => T)(torchData.length);
  for (let t = 0; t < positions.length; t++) out[positions[t]] = torchData[t];
  return out;
}

/** Copies values stored in `layout` order into torch layout. */
export function toTorch<T extends Uint8Array | Float32Array>(
  layout: WeightLayout,
  layer: PrunableLayer,
  data: T,
): T {
  const positions = layout.positions(layer);
  if (!positions) return data;
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let t = 0; t < positions.length; t++) out[t] = data[positions[t]];
  return out;
}
