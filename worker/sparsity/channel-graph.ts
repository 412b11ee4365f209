import type { Shape3 } from '../arch/graph.ts';
import { ByteWords, byteWordsCache, countBoth, nextSet } from './bytes.ts';
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

/**
 * Calls `visit(i)` for each input channel whose kernel (o, i) keeps a weight, in order, until it
 * returns true. Zero stretches of the mask row are skipped a word at a time.
 */
function forEachPresentKernel(
  mask: ByteWords,
  row: number,
  fanIn: number,
  area: number,
  visit: (i: number) => boolean,
): void {
  const end = row + fanIn;
  for (let p = nextSet(mask, row, end); p < end; ) {
    const i = Math.floor((p - row) / area);
    if (visit(i)) return;
    p = nextSet(mask, row + (i + 1) * area, end);
  }
}

/**
 * The cheap channel-level bound: a kernel is present when any of its weights is, and a channel is
 * connected when some present kernel links it. Exact for MLPs; for conv nets it can only
 * over-count (e.g. a corner weight that only ever reads padding), so it serves inside search loops.
 */
export function channelGraphAlgebra(): ConnectivityAlgebra<ChannelMap> {
  const maskWords = byteWordsCache();

  return {
    full: (shape) => channelMap(shape, 1),
    union: (a, b) => ({ shape: a.shape, live: a.live.map((v, k) => v | b.live[k]) }),

    layer(node, mask, alive) {
      const g = layerGeometry(node);
      const view = maskWords(node.id, mask);
      const out = channelMap(g.outShape, 0);
      const area = g.kernel * g.kernel;
      for (let o = 0; o < g.outShape[0]; o++) {
        forEachPresentKernel(view, o * g.fanIn, g.fanIn, area, (i) => {
          if (alive.live[i]) out.live[o] = 1;
          return out.live[o] === 1;
        });
      }
      return out;
    },

    layerBack(node, mask, reach) {
      const g = layerGeometry(node);
      const view = maskWords(node.id, mask);
      const source = channelMap(g.inShape, 0);
      const area = g.kernel * g.kernel;
      let missing = g.inShape[0];
      for (let o = 0; o < g.outShape[0] && missing > 0; o++) {
        if (!reach.live[o]) continue;
        forEachPresentKernel(view, o * g.fanIn, g.fanIn, area, (i) => {
          if (!source.live[i]) {
            source.live[i] = 1;
            missing--;
          }
          return missing === 0;
        });
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
      const g = layerGeometry(node);
      const view = maskWords(node.id, mask);
      const area = g.kernel * g.kernel;
      // Row of the mask's shape with 1 wherever the weight's input channel is live.
      const liveInputs = new ByteWords(new Uint8Array(g.fanIn));
      for (let i = 0; i < g.inShape[0]; i++)
        if (aliveIn.live[i]) liveInputs.bytes.fill(1, i * area, (i + 1) * area);
      let effective = 0;
      for (let o = 0; o < g.outShape[0]; o++) {
        if (!reachOut.live[o]) continue;
        const row = o * g.fanIn;
        effective += countBoth(view, row, liveInputs, 0, g.fanIn);
        if (out) for (let j = 0; j < g.fanIn; j++) out[row + j] = mask[row + j] & liveInputs.bytes[j];
      }
      return effective;
    },
  };
}
