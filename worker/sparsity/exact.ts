import type { FlattenNode, GlobalAvgPoolNode, PoolNode, PrunableNode, Shape3 } from '../arch/graph.ts';
import { Bitmap, fullPlane } from './bitmap.ts';
import { ByteWords, byteWordsCache, countBoth, nextSet, orInto } from './bytes.ts';
import { type LayerGeometry, layerGeometry } from './geometry.ts';
import type { ConnectivityAlgebra } from './propagate.ts';

/** 32 bits of a packed row starting at bit `start` (may be negative); bits outside the row are 0. */
function bitsAt(words: Uint32Array, rowStart: number, wordsPerRow: number, start: number): number {
  const q = start >> 5;
  const r = start & 31;
  const lo = q >= 0 && q < wordsPerRow ? words[rowStart + q] >>> r : 0;
  const hi = r !== 0 && q + 1 >= 0 && q + 1 < wordsPerRow ? words[rowStart + q + 1] << (32 - r) : 0;
  return (lo | hi) >>> 0;
}

/**
 * Moves bits between two packed maps along every link (i, y, x) ↔ (j, y', x') of weight j = (i, dy, dx):
 * input unit (i, y'·s + dy − pad, x'·s + dx − pad) ↔ plane j at output position (y', x').
 * `gather` reads input units into per-weight planes; otherwise the planes are scattered back onto
 * the input map. Stride 1 shifts whole row words; other strides go bit by bit.
 */
function transferLinks(g: LayerGeometry, map: Bitmap, planes: Uint32Array, gather: boolean): void {
  const [inChannels, inH, inW] = g.inShape;
  const [, outH, outW] = g.outShape;
  const { kernel: k, stride: s } = g;
  const outWords = Math.ceil(outW / 32);
  const plane = outH * outWords;
  const outValid = fullPlane(1, outW);
  const inValid = fullPlane(1, inW);
  for (let i = 0; i < inChannels; i++) {
    if (gather && map.channelIsEmpty(i)) continue;
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const base = ((i * k + dy) * k + dx) * plane;
        const shift = dx - g.padLeft;
        for (let y = 0; y < outH; y++) {
          const sy = y * s + dy - g.padTop;
          if (sy < 0 || sy >= inH) continue;
          const row = base + y * outWords;
          const mapRow = (i * inH + sy) * map.wordsPerRow;
          if (s === 1 && gather) {
            for (let w = 0; w < outWords; w++) {
              planes[row + w] = bitsAt(map.words, mapRow, map.wordsPerRow, w * 32 + shift) & outValid[w];
            }
          } else if (s === 1) {
            for (let w = 0; w < map.wordsPerRow; w++) {
              map.words[mapRow + w] |= bitsAt(planes, row, outWords, w * 32 - shift) & inValid[w];
            }
          } else {
            for (let x = 0; x < outW; x++) {
              const sx = x * s + shift;
              if (sx < 0 || sx >= inW) continue;
              if (gather) {
                if (map.get(i, sy, sx)) planes[row + (x >>> 5)] |= 1 << (x & 31);
              } else if ((planes[row + (x >>> 5)] >>> (x & 31)) & 1) {
                map.set(i, sy, sx);
              }
            }
          }
        }
      }
    }
  }
}

function planeEquals(words: Uint32Array, offset: number, plane: Uint32Array): boolean {
  for (let p = 0; p < plane.length; p++) if (words[offset + p] !== plane[p]) return false;
  return true;
}

function planeIsEmpty(words: Uint32Array, offset: number, length: number): boolean {
  for (let p = offset; p < offset + length; p++) if (words[p] !== 0) return false;
  return true;
}

/** Per-plane flags of a packed stack of planes: 1 where the plane is entirely set (or non-empty). */
function planeFlags(
  words: Uint32Array,
  count: number,
  plane: Uint32Array,
  test: 'full' | 'nonEmpty',
): ByteWords {
  const flags = new Uint8Array(count);
  const size = plane.length;
  for (let j = 0; j < count; j++) {
    const hit = test === 'full' ? planeEquals(words, j * size, plane) : !planeIsEmpty(words, j * size, size);
    flags[j] = hit ? 1 : 0;
  }
  return new ByteWords(flags);
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

/** Per layer, what the forward pass learnt that the count reuses. */
interface ForwardState {
  /** Plane j: where weight j reads a live input unit, in output coordinates. */
  gathered: Uint32Array;
  /** 1 where plane j is non-empty: weight j reads some live unit somewhere. */
  readsLive: ByteWords;
}

/**
 * Exact, padding-aware connectivity on packed 0/1 maps: every operation is an OR/AND of bits, so
 * nothing can overflow, unlike the float gradient of an all-ones input through a deep network.
 * Saturated maps (the common case below extreme sparsity) take word-wide shortcuts over the masks.
 */
export function exactAlgebra(): ConnectivityAlgebra<Bitmap> {
  const forwardByNode = new Map<number, ForwardState>();
  const maskWords = byteWordsCache();

  return {
    full: (shape: Shape3) => Bitmap.full(shape),
    union: (a, b) => a.union(b),

    layer(node: PrunableNode, mask: Uint8Array, alive: Bitmap): Bitmap {
      const g = layerGeometry(node);
      const out = Bitmap.empty(g.outShape);
      const plane = out.plane;
      const gathered = new Uint32Array(g.fanIn * plane);
      transferLinks(g, alive, gathered, true);
      const full = fullPlane(g.outShape[1], g.outShape[2]);
      forwardByNode.set(node.id, { gathered, readsLive: planeFlags(gathered, g.fanIn, full, 'nonEmpty') });
      const perChannel = g.kernel * g.kernel;
      const words = out.words;
      const view = maskWords(node.id, mask);
      const live = Uint8Array.from({ length: g.inShape[0] }, (_, i) => (alive.channelIsEmpty(i) ? 0 : 1));
      for (let o = 0; o < g.outShape[0]; o++) {
        const outBase = o * plane;
        const row = o * g.fanIn;
        const end = row + g.fanIn;
        // Visit kept weights only (zero stretches skipped a word at a time), one input channel at a time.
        for (let k = nextSet(view, row, end); k < end; ) {
          const i = Math.floor((k - row) / perChannel);
          const groupEnd = row + (i + 1) * perChannel;
          if (live[i]) {
            for (; k < groupEnd; k = nextSet(view, k + 1, groupEnd)) {
              const src = (k - row) * plane;
              for (let p = 0; p < plane; p++) words[outBase + p] |= gathered[src + p];
            }
            if (planeEquals(words, outBase, full)) break;
          }
          k = nextSet(view, groupEnd, end);
        }
      }
      return out;
    },

    layerBack(node: PrunableNode, mask: Uint8Array, reach: Bitmap): Bitmap {
      const g = layerGeometry(node);
      const plane = reach.plane;
      const full = fullPlane(g.outShape[1], g.outShape[2]);
      const reachFull = planeFlags(reach.words, g.outShape[0], full, 'full');
      const view = maskWords(node.id, mask);
      // Weights fed by a fully reaching output channel carry a full plane back: flag them word-wise.
      const saturated = new ByteWords(new Uint8Array(g.fanIn));
      for (let o = 0; o < g.outShape[0]; o++) {
        if (reachFull.bytes[o]) orInto(saturated, 0, view, o * g.fanIn, g.fanIn);
      }
      const planes = new Uint32Array(g.fanIn * plane);
      const words = reach.words;
      for (let o = 0; o < g.outShape[0]; o++) {
        if (reachFull.bytes[o] || reach.channelIsEmpty(o)) continue;
        const row = o * g.fanIn;
        const end = row + g.fanIn;
        const src = o * plane;
        for (let k = nextSet(view, row, end); k < end; k = nextSet(view, k + 1, end)) {
          if (saturated.bytes[k - row]) continue;
          const dst = (k - row) * plane;
          for (let p = 0; p < plane; p++) planes[dst + p] |= words[src + p];
        }
      }
      for (let j = 0; j < g.fanIn; j++) if (saturated.bytes[j]) planes.set(full, j * plane);
      const source = Bitmap.empty(g.inShape);
      transferLinks(g, source, planes, false);
      return source;
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
      _aliveIn: Bitmap,
      reachOut: Bitmap,
      out: Uint8Array | null,
    ): number {
      const g = layerGeometry(node);
      const { gathered, readsLive } = forwardByNode.get(node.id)!;
      const plane = reachOut.plane;
      const reachFull = planeFlags(
        reachOut.words,
        g.outShape[0],
        fullPlane(g.outShape[1], g.outShape[2]),
        'full',
      );
      const view = maskWords(node.id, mask);
      const words = reachOut.words;
      let effective = 0;
      for (let o = 0; o < g.outShape[0]; o++) {
        const maskRow = o * g.fanIn;
        if (reachFull.bytes[o]) {
          // The output channel reaches everywhere: a weight is effective iff it reads a live unit.
          effective += countBoth(view, maskRow, readsLive, 0, g.fanIn);
          if (out)
            for (let j = 0; j < g.fanIn; j++) out[maskRow + j] = mask[maskRow + j] & readsLive.bytes[j];
          continue;
        }
        if (reachOut.channelIsEmpty(o)) continue;
        const reachBase = o * plane;
        const end = maskRow + g.fanIn;
        for (let k = nextSet(view, maskRow, end); k < end; k = nextSet(view, k + 1, end)) {
          const j = k - maskRow;
          if (!readsLive.bytes[j]) continue;
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
