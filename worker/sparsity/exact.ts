import type { FlattenNode, GlobalAvgPoolNode, PoolNode, PrunableNode, Shape3 } from '../arch/graph.ts';
import { Bitmap, fullPlane } from './bitmap.ts';
import { type LayerGeometry, layerGeometry } from './geometry.ts';
import type { ConnectivityAlgebra } from './propagate.ts';

/**
 * For weight j = (i, dy, dx) of a layer, plane j of the result holds, at output position (y, x),
 * whether the input unit that weight reads there, (i, y·s + dy − pad, x·s + dx − pad), is alive.
 * Padding reads as dead, which is what makes the method padding-aware.
 */
function gatherInputs(g: LayerGeometry, alive: Bitmap): Uint32Array {
  const [inChannels, inH, inW] = g.inShape;
  const [, outH, outW] = g.outShape;
  const { kernel: k, stride: s } = g;
  const outWords = Math.ceil(outW / 32);
  const plane = outH * outWords;
  const gathered = new Uint32Array(inChannels * k * k * plane);
  for (let i = 0; i < inChannels; i++) {
    if (alive.channelIsEmpty(i)) continue;
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const base = ((i * k + dy) * k + dx) * plane;
        for (let y = 0; y < outH; y++) {
          const sy = y * s + dy - g.padTop;
          if (sy < 0 || sy >= inH) continue;
          const row = base + y * outWords;
          for (let x = 0; x < outW; x++) {
            const sx = x * s + dx - g.padLeft;
            if (sx >= 0 && sx < inW && alive.get(i, sy, sx)) gathered[row + (x >>> 5)] |= 1 << (x & 31);
          }
        }
      }
    }
  }
  return gathered;
}

/** The adjoint of `gatherInputs`: per-weight planes in output coordinates back onto the input map. */
function scatterToInputs(g: LayerGeometry, planes: Uint32Array): Bitmap {
  const [inChannels, inH, inW] = g.inShape;
  const [, outH, outW] = g.outShape;
  const { kernel: k, stride: s } = g;
  const outWords = Math.ceil(outW / 32);
  const plane = outH * outWords;
  const result = Bitmap.empty(g.inShape);
  for (let i = 0; i < inChannels; i++) {
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const base = ((i * k + dy) * k + dx) * plane;
        for (let y = 0; y < outH; y++) {
          const sy = y * s + dy - g.padTop;
          if (sy < 0 || sy >= inH) continue;
          const row = base + y * outWords;
          for (let x = 0; x < outW; x++) {
            const sx = x * s + dx - g.padLeft;
            if (sx >= 0 && sx < inW && (planes[row + (x >>> 5)] >>> (x & 31)) & 1) result.set(i, sy, sx);
          }
        }
      }
    }
  }
  return result;
}

function planesEqual(words: Uint32Array, offset: number, plane: Uint32Array): boolean {
  for (let p = 0; p < plane.length; p++) if (words[offset + p] !== plane[p]) return false;
  return true;
}

function channelLiveness(map: Bitmap): Uint8Array {
  const live = new Uint8Array(map.c);
  for (let ch = 0; ch < map.c; ch++) live[ch] = map.channelIsEmpty(ch) ? 0 : 1;
  return live;
}

/** Calls `link` for every (output unit, input unit) pair a pooling window connects. */
function forEachPoolLink(
  node: PoolNode | GlobalAvgPoolNode,
  inShape: Shape3,
  link: (ch: number, y: number, x: number, sy: number, sx: number) => void,
): void {
  const [c, outH, outW] = node.shape;
  const [sizeH, sizeW, stride] =
    node.kind === 'pool' ? [node.size, node.size, node.stride] : [inShape[1], inShape[2], 1];
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        for (let a = 0; a < sizeH; a++) {
          for (let b = 0; b < sizeW; b++) link(ch, y, x, y * stride + a, x * stride + b);
        }
      }
    }
  }
}

/** Flatten order is torch's (channel, y, x). */
function forEachFlattenLink(
  map: Bitmap,
  link: (unit: number, ch: number, y: number, x: number) => void,
): void {
  let unit = 0;
  for (let ch = 0; ch < map.c; ch++) {
    for (let y = 0; y < map.h; y++) {
      for (let x = 0; x < map.w; x++) link(unit++, ch, y, x);
    }
  }
}

/**
 * Exact, padding-aware connectivity on packed 0/1 maps: every operation is an OR/AND of bits, so
 * nothing can overflow, unlike the float gradient of an all-ones input through a deep network.
 */
export function exactAlgebra(): ConnectivityAlgebra<Bitmap> {
  /** Gathered input planes per layer, kept from the forward pass for the effectiveness test. */
  const gatheredByNode = new Map<number, Uint32Array>();

  return {
    full: (shape: Shape3) => Bitmap.full(shape),
    union: (a, b) => a.union(b),

    layer(node: PrunableNode, mask: Uint8Array, alive: Bitmap): Bitmap {
      const g = layerGeometry(node);
      const gathered = gatherInputs(g, alive);
      gatheredByNode.set(node.id, gathered);
      const out = Bitmap.empty(g.outShape);
      const plane = out.plane;
      const full = fullPlane(g.outShape[1], g.outShape[2]);
      const perChannel = g.kernel * g.kernel;
      const live = channelLiveness(alive);
      const words = out.words;
      for (let o = 0; o < g.outShape[0]; o++) {
        const outBase = o * plane;
        const maskRow = o * g.fanIn;
        for (let i = 0; i < g.inShape[0]; i++) {
          if (!live[i]) continue;
          for (let j = i * perChannel; j < (i + 1) * perChannel; j++) {
            if (!mask[maskRow + j]) continue;
            const src = j * plane;
            for (let p = 0; p < plane; p++) words[outBase + p] |= gathered[src + p];
          }
          if (planesEqual(words, outBase, full)) break;
        }
      }
      return out;
    },

    layerBack(node: PrunableNode, mask: Uint8Array, reach: Bitmap): Bitmap {
      const g = layerGeometry(node);
      const plane = reach.plane;
      const planes = new Uint32Array(g.fanIn * plane);
      const words = reach.words;
      for (let o = 0; o < g.outShape[0]; o++) {
        if (reach.channelIsEmpty(o)) continue;
        const maskRow = o * g.fanIn;
        const src = o * plane;
        for (let j = 0; j < g.fanIn; j++) {
          if (!mask[maskRow + j]) continue;
          const dst = j * plane;
          for (let p = 0; p < plane; p++) planes[dst + p] |= words[src + p];
        }
      }
      return scatterToInputs(g, planes);
    },

    pool(node: PoolNode | GlobalAvgPoolNode, alive: Bitmap): Bitmap {
      const out = Bitmap.empty(node.shape);
      forEachPoolLink(node, [alive.c, alive.h, alive.w], (ch, y, x, sy, sx) => {
        if (alive.get(ch, sy, sx)) out.set(ch, y, x);
      });
      return out;
    },

    poolBack(node: PoolNode | GlobalAvgPoolNode, reach: Bitmap, inShape: Shape3): Bitmap {
      const source = Bitmap.empty(inShape);
      forEachPoolLink(node, inShape, (ch, y, x, sy, sx) => {
        if (reach.get(ch, y, x)) source.set(ch, sy, sx);
      });
      return source;
    },

    flatten(node: FlattenNode, alive: Bitmap): Bitmap {
      const out = Bitmap.empty(node.shape);
      forEachFlattenLink(alive, (unit, ch, y, x) => {
        if (alive.get(ch, y, x)) out.set(unit, 0, 0);
      });
      return out;
    },

    flattenBack(_node: FlattenNode, reach: Bitmap, inShape: Shape3): Bitmap {
      const source = Bitmap.empty(inShape);
      forEachFlattenLink(source, (unit, ch, y, x) => {
        if (reach.get(unit, 0, 0)) source.set(ch, y, x);
      });
      return source;
    },

    effective(
      node: PrunableNode,
      mask: Uint8Array,
      aliveIn: Bitmap,
      reachOut: Bitmap,
      out: Uint8Array | null,
    ): number {
      const g = layerGeometry(node);
      const gathered = gatheredByNode.get(node.id)!;
      const plane = reachOut.plane;
      const words = reachOut.words;
      const perChannel = g.kernel * g.kernel;
      const live = channelLiveness(aliveIn);
      let effective = 0;
      for (let o = 0; o < g.outShape[0]; o++) {
        if (reachOut.channelIsEmpty(o)) continue;
        const maskRow = o * g.fanIn;
        const reachBase = o * plane;
        for (let j = 0; j < g.fanIn; j++) {
          if (!mask[maskRow + j] || !live[Math.floor(j / perChannel)]) continue;
          const src = j * plane;
          for (let p = 0; p < plane; p++) {
            if ((words[reachBase + p] & gathered[src + p]) !== 0) {
              effective++;
              if (out) out[maskRow + j] = 1;
              break;
            }
          }
        }
      }
      return effective;
    },
  };
}
