import { bitAt, countBothBits, fillBits, nextSetBit, type PackedMask, wordsFor } from './bits.ts';
import type { NetLayer, NetLinks, Shape3 } from './net.ts';
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
  mask: Uint32Array,
  row: number,
  fanIn: number,
  area: number,
  visit: (i: number) => boolean,
): void {
  const end = row + fanIn;
  for (let p = nextSetBit(mask, row, end); p < end; ) {
    const i = Math.floor((p - row) / area);
    if (visit(i)) return;
    p = nextSetBit(mask, row + (i + 1) * area, end);
  }
}

/** A layer's kernel area, input channels per group and output channels per group. */
function groupsOf(node: NetLayer) {
  const area = node.window.kernel[0] * node.window.kernel[1];
  return { area, inPerGroup: node.fanIn / area, outPerGroup: node.shape[0] / node.groups };
}

/** Calls `link(u, k, v)` for every channel-level link: output channel u to channel v of input k. */
function forEachChannelLink(
  node: NetLinks,
  inShapes: readonly Shape3[],
  link: (u: number, input: number, v: number) => void,
): void {
  const { start, from, unit } = node;
  const outArea = node.shape[1] * node.shape[2];
  const inAreas = inShapes.map((shape) => shape[1] * shape[2]);
  for (let u = 0; u + 1 < start.length; u++) {
    for (let k = start[u]; k < start[u + 1]; k++) {
      const input = from ? from[k] : 0;
      link(Math.floor(u / outArea), input, Math.floor(unit[k] / inAreas[input]));
    }
  }
}

/**
 * The cheap channel-level bound: a kernel is present when any of its weights is, and a channel is
 * connected when some present kernel links it. Exact for MLPs; for conv nets it can only
 * over-count (e.g. a corner weight that only ever reads padding), so it serves inside search loops.
 */
export function channelGraphAlgebra(): ConnectivityAlgebra<ChannelMap> {
  return {
    full: (shape) => channelMap(shape, 1),
    union: (a, b) => ({ shape: a.shape, live: a.live.map((v, k) => v | b.live[k]) }),

    layer(node, mask, alive) {
      const view = mask.words;
      const out = channelMap(node.shape, 0);
      const { area, inPerGroup, outPerGroup } = groupsOf(node);
      for (let o = 0; o < node.shape[0]; o++) {
        const first = Math.floor(o / outPerGroup) * inPerGroup;
        forEachPresentKernel(view, o * node.fanIn, node.fanIn, area, (i) => {
          if (alive.live[first + i]) out.live[o] = 1;
          return out.live[o] === 1;
        });
      }
      return out;
    },

    layerBack(node, mask, reach) {
      const view = mask.words;
      const source = channelMap(node.inShape, 0);
      const { area, inPerGroup, outPerGroup } = groupsOf(node);
      let missing = node.inShape[0];
      for (let o = 0; o < node.shape[0] && missing > 0; o++) {
        if (!reach.live[o]) continue;
        const first = Math.floor(o / outPerGroup) * inPerGroup;
        forEachPresentKernel(view, o * node.fanIn, node.fanIn, area, (i) => {
          if (!source.live[first + i]) {
            source.live[first + i] = 1;
            missing--;
          }
          return missing === 0;
        });
      }
      return source;
    },

    pool: (node, alive) => ({ shape: node.shape, live: alive.live }),
    poolBack: (node, reach) => ({ shape: node.inShape, live: reach.live }),

    concat(node, alive) {
      const out = channelMap(node.shape, 0);
      let offset = 0;
      for (const map of alive) {
        out.live.set(map.live, offset);
        offset += map.live.length;
      }
      return out;
    },

    concatBack(_node, reach, inShapes) {
      let offset = 0;
      return inShapes.map((shape) => {
        const live = reach.live.slice(offset, offset + shape[0]);
        offset += shape[0];
        return { shape, live };
      });
    },

    links(node, alive) {
      const out = channelMap(node.shape, 0);
      const inShapes = alive.map((map) => map.shape);
      forEachChannelLink(node, inShapes, (u, input, v) => {
        if (alive[input].live[v]) out.live[u] = 1;
      });
      return out;
    },

    linksBack(node, reach, inShapes) {
      const sources = inShapes.map((shape) => channelMap(shape, 0));
      forEachChannelLink(node, inShapes, (u, input, v) => {
        if (reach.live[u]) sources[input].live[v] = 1;
      });
      return sources;
    },

    effective(
      node: NetLayer,
      mask: PackedMask,
      aliveIn: ChannelMap,
      reachOut: ChannelMap,
      out: Uint8Array | null,
    ) {
      const view = mask.words;
      const { area, inPerGroup, outPerGroup } = groupsOf(node);
      // Per group, a row of the mask's shape (packed) set wherever the weight's input channel is live.
      const liveInputs = new Uint32Array(wordsFor(node.groups * node.fanIn));
      for (let i = 0; i < node.inShape[0]; i++) if (aliveIn.live[i]) fillBits(liveInputs, i * area, area);
      let effective = 0;
      for (let o = 0; o < node.shape[0]; o++) {
        if (!reachOut.live[o]) continue;
        const row = o * node.fanIn;
        const end = row + node.fanIn;
        const first = Math.floor(o / outPerGroup) * inPerGroup * area;
        effective += countBothBits(view, row, liveInputs, first, node.fanIn);
        if (out)
          for (let k = nextSetBit(view, row, end); k < end; k = nextSetBit(view, k + 1, end)) {
            const j = first + k - row;
            if (bitAt(liveInputs, j)) out[k] = 1;
          }
      }
      return effective;
    },
  };
}
