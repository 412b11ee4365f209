import type { PrunableNode, Shape3 } from '../arch/graph.ts';
import { layerGeometry } from './geometry.ts';
import type { ConnectivityAlgebra } from './propagate.ts';

/** Liveness of whole channels (units, for flat maps): spatial positions and padding are ignored. */
export interface ChannelMap {
  readonly shape: Shape3;
  readonly live: Uint8Array;
}

function channelMap(shape: Shape3, fill: 0 | 1): ChannelMap {
  return { shape, live: new Uint8Array(shape[0]).fill(fill) };
}

/** How many weights each kernel (o, i) keeps; a kernel is present when the count is non-zero. */
function kernelCounts(node: PrunableNode, mask: Uint8Array): Uint16Array | Uint8Array {
  const g = layerGeometry(node);
  const area = g.kernel * g.kernel;
  if (area === 1) return mask;
  const kernels = g.outShape[0] * g.inShape[0];
  const counts = new Uint16Array(kernels);
  for (let kernel = 0, k = 0; kernel < kernels; kernel++) {
    let kept = 0;
    for (const end = k + area; k < end; k++) kept += mask[k];
    counts[kernel] = kept;
  }
  return counts;
}

/**
 * The cheap channel-level bound: a kernel is present when any of its weights is, and a channel is
 * connected when some present kernel links it. Exact for MLPs; for conv nets it can only
 * over-count (e.g. a corner weight that only ever reads padding), so it serves inside search loops.
 */
export function channelGraphAlgebra(): ConnectivityAlgebra<ChannelMap> {
  const countsByNode = new Map<number, Uint16Array | Uint8Array>();
  const countsOf = (node: PrunableNode, mask: Uint8Array) => {
    let counts = countsByNode.get(node.id);
    if (!counts) {
      counts = kernelCounts(node, mask);
      countsByNode.set(node.id, counts);
    }
    return counts;
  };

  return {
    full: (shape) => channelMap(shape, 1),
    union: (a, b) => ({ shape: a.shape, live: a.live.map((v, k) => v | b.live[k]) }),

    layer(node, mask, alive) {
      const counts = countsOf(node, mask);
      const [outChannels] = node.shape;
      const inChannels = alive.live.length;
      const out = channelMap(node.shape, 0);
      for (let o = 0; o < outChannels; o++) {
        const row = o * inChannels;
        for (let i = 0; i < inChannels; i++) {
          if (counts[row + i] && alive.live[i]) {
            out.live[o] = 1;
            break;
          }
        }
      }
      return out;
    },

    layerBack(node, mask, reach) {
      const counts = countsOf(node, mask);
      const g = layerGeometry(node);
      const inChannels = g.inShape[0];
      const source = channelMap(g.inShape, 0);
      for (let o = 0; o < g.outShape[0]; o++) {
        if (!reach.live[o]) continue;
        const row = o * inChannels;
        for (let i = 0; i < inChannels; i++) if (counts[row + i]) source.live[i] = 1;
      }
      return source;
    },

    pool: (node, alive) => ({ shape: node.shape, live: alive.live }),
    poolBack: (_node, reach, inShape) => ({ shape: inShape, live: reach.live }),

    flatten(node, alive) {
      const area = alive.shape[1] * alive.shape[2];
      const out = channelMap(node.shape, 0);
      for (let unit = 0; unit < out.live.length; unit++) out.live[unit] = alive.live[Math.floor(unit / area)];
      return out;
    },

    flattenBack(_node, reach, inShape) {
      const area = inShape[1] * inShape[2];
      const source = channelMap(inShape, 0);
      for (let unit = 0; unit < reach.live.length; unit++) {
        if (reach.live[unit]) source.live[Math.floor(unit / area)] = 1;
      }
      return source;
    },

    effective(node, mask, aliveIn, reachOut, out) {
      const counts = countsOf(node, mask);
      const g = layerGeometry(node);
      const inChannels = g.inShape[0];
      const area = g.kernel * g.kernel;
      let effective = 0;
      for (let o = 0; o < g.outShape[0]; o++) {
        if (!reachOut.live[o]) continue;
        const row = o * inChannels;
        for (let i = 0; i < inChannels; i++) {
          if (!aliveIn.live[i] || !counts[row + i]) continue;
          effective += counts[row + i];
          if (out) {
            const start = (row + i) * area;
            out.set(mask.subarray(start, start + area), start);
          }
        }
      }
      return effective;
    },
  };
}
