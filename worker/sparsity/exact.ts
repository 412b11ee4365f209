import { Bitmap, fullPlane } from './bitmap.ts';
import { bitAt, countBothBits, nextSetBit, orBits, type PackedMask, wordsFor } from './bits.ts';
import type { NetLayer, NetLinks, NetPool, Shape3 } from './net.ts';
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
 * Moves bits between two packed maps along every link (i, y, x) ↔ (plane, y', x') of a layer:
 * plane (i, dy, dx) of absolute input channel i holds, at output position (y', x'), input unit
 * (i, y'·sh + dy·dh − padTop, x'·sw + dx·dw − padLeft). `gather` reads input units into the planes;
 * otherwise the planes are scattered back onto the input map. Column stride 1 shifts whole row
 * words; other strides go bit by bit.
 */
function transferLinks(node: NetLayer, map: Bitmap, planes: Uint32Array, gather: boolean): void {
  const [inChannels, inH, inW] = node.inShape;
  const [, outH, outW] = node.shape;
  const {
    kernel: [kh, kw],
    stride: [sh, sw],
    dilation: [dh, dw],
    padTop,
    padLeft,
  } = node.window;
  const outWords = Math.ceil(outW / 32);
  const plane = outH * outWords;
  const outValid = fullPlane(1, outW);
  const inValid = fullPlane(1, inW);
  for (let i = 0; i < inChannels; i++) {
    if (gather && map.channelIsEmpty(i)) continue;
    for (let dy = 0; dy < kh; dy++) {
      for (let dx = 0; dx < kw; dx++) {
        const base = ((i * kh + dy) * kw + dx) * plane;
        const shift = dx * dw - padLeft;
        for (let y = 0; y < outH; y++) {
          const sy = y * sh + dy * dh - padTop;
          if (sy < 0 || sy >= inH) continue;
          const row = base + y * outWords;
          const mapRow = (i * inH + sy) * map.wordsPerRow;
          if (sw === 1 && gather) {
            for (let w = 0; w < outWords; w++) {
              planes[row + w] = bitsAt(map.words, mapRow, map.wordsPerRow, w * 32 + shift) & outValid[w];
            }
          } else if (sw === 1) {
            for (let w = 0; w < map.wordsPerRow; w++) {
              map.words[mapRow + w] |= bitsAt(planes, row, outWords, w * 32 - shift) & inValid[w];
            }
          } else {
            for (let x = 0; x < outW; x++) {
              const sx = x * sw + shift;
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

/** Per-plane flags (packed) of a stack of planes: set where the plane is entirely set (or non-empty). */
function planeFlags(
  words: Uint32Array,
  count: number,
  plane: Uint32Array,
  test: 'full' | 'nonEmpty',
): Uint32Array {
  const flags = new Uint32Array(wordsFor(count));
  const size = plane.length;
  for (let j = 0; j < count; j++) {
    const hit = test === 'full' ? planeEquals(words, j * size, plane) : !planeIsEmpty(words, j * size, size);
    if (hit) flags[j >>> 5] |= 1 << (j & 31);
  }
  return flags;
}

/** Calls `link` for every (output unit, input unit) pair a pooling window connects (not padding). */
function forEachPoolLink(
  node: NetPool,
  link: (ch: number, y: number, x: number, sy: number, sx: number) => void,
): void {
  const [c, outH, outW] = node.shape;
  const [, inH, inW] = node.inShape;
  const {
    kernel: [kh, kw],
    stride: [sh, sw],
    dilation: [dh, dw],
    padTop,
    padLeft,
  } = node.window;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) {
        for (let a = 0; a < kh; a++) {
          const sy = y * sh + a * dh - padTop;
          if (sy < 0 || sy >= inH) continue;
          for (let b = 0; b < kw; b++) {
            const sx = x * sw + b * dw - padLeft;
            if (sx >= 0 && sx < inW) link(ch, y, x, sy, sx);
          }
        }
      }
    }
  }
}

/** Calls `link(u, k, v)` for every link of output unit u to unit v of input k. */
function forEachLink(node: NetLinks, link: (u: number, input: number, v: number) => void): void {
  const { start, from, unit } = node;
  const units = start.length - 1;
  for (let u = 0; u < units; u++) {
    for (let k = start[u]; k < start[u + 1]; k++) link(u, from ? from[k] : 0, unit[k]);
  }
}

/** Per layer, what the forward pass learnt that the count reuses. */
interface ForwardState {
  /** Plane j: where weight j reads a live input unit, in output coordinates. */
  gathered: Uint32Array;
  /** Bit j set where plane j is non-empty: weight j reads some live unit somewhere. */
  readsLive: Uint32Array;
}

/**
 * Exact, padding-aware connectivity on packed 0/1 maps: every operation is an OR/AND of bits, so
 * nothing can overflow, unlike the float gradient of an all-ones input through a deep network.
 * Saturated maps (the common case below extreme sparsity) take word-wide shortcuts over the masks.
 */
export function exactAlgebra(): ConnectivityAlgebra<Bitmap> {
  const forwardByNode = new Map<number, ForwardState>();

  return {
    full: (shape: Shape3) => Bitmap.full(shape),
    union: (a, b) => a.union(b),

    layer(node: NetLayer, mask: PackedMask, alive: Bitmap): Bitmap {
      const [outChannels, outH, outW] = node.shape;
      const { fanIn } = node;
      const planeCount = node.groups * fanIn;
      const out = Bitmap.empty(node.shape);
      const plane = out.plane;
      const gathered = new Uint32Array(planeCount * plane);
      transferLinks(node, alive, gathered, true);
      const full = fullPlane(outH, outW);
      forwardByNode.set(node.id, { gathered, readsLive: planeFlags(gathered, planeCount, full, 'nonEmpty') });
      const perChannel = node.window.kernel[0] * node.window.kernel[1];
      const inPerGroup = fanIn / perChannel;
      const outPerGroup = outChannels / node.groups;
      const words = out.words;
      const bits = mask.words;
      const live = Uint8Array.from({ length: node.inShape[0] }, (_, i) => (alive.channelIsEmpty(i) ? 0 : 1));
      for (let o = 0; o < outChannels; o++) {
        const group = Math.floor(o / outPerGroup);
        const firstChannel = group * inPerGroup;
        const firstPlane = group * fanIn;
        const outBase = o * plane;
        const row = o * fanIn;
        const end = row + fanIn;
        // Visit kept weights only (zero stretches skipped a word at a time), one input channel at a time.
        for (let k = nextSetBit(bits, row, end); k < end; ) {
          const i = Math.floor((k - row) / perChannel);
          const channelEnd = row + (i + 1) * perChannel;
          if (live[firstChannel + i]) {
            for (; k < channelEnd; k = nextSetBit(bits, k + 1, channelEnd)) {
              const src = (firstPlane + k - row) * plane;
              for (let p = 0; p < plane; p++) words[outBase + p] |= gathered[src + p];
            }
            if (planeEquals(words, outBase, full)) break;
          }
          k = nextSetBit(bits, channelEnd, end);
        }
      }
      return out;
    },

    layerBack(node: NetLayer, mask: PackedMask, reach: Bitmap): Bitmap {
      const [outChannels, outH, outW] = node.shape;
      const { fanIn } = node;
      const outPerGroup = outChannels / node.groups;
      const planeCount = node.groups * fanIn;
      const plane = reach.plane;
      const full = fullPlane(outH, outW);
      const reachFull = planeFlags(reach.words, outChannels, full, 'full');
      const bits = mask.words;
      // Weights fed by a fully reaching output channel carry a full plane back: flag them word-wise.
      const saturated = new Uint32Array(wordsFor(planeCount));
      for (let o = 0; o < outChannels; o++) {
        if (bitAt(reachFull, o))
          orBits(saturated, Math.floor(o / outPerGroup) * fanIn, bits, o * fanIn, fanIn);
      }
      const planes = new Uint32Array(planeCount * plane);
      const words = reach.words;
      for (let o = 0; o < outChannels; o++) {
        if (bitAt(reachFull, o) || reach.channelIsEmpty(o)) continue;
        const firstPlane = Math.floor(o / outPerGroup) * fanIn;
        const row = o * fanIn;
        const end = row + fanIn;
        const src = o * plane;
        for (let k = nextSetBit(bits, row, end); k < end; k = nextSetBit(bits, k + 1, end)) {
          const j = firstPlane + k - row;
          if (bitAt(saturated, j)) continue;
          const dst = j * plane;
          for (let p = 0; p < plane; p++) planes[dst + p] |= words[src + p];
        }
      }
      for (
        let j = nextSetBit(saturated, 0, planeCount);
        j < planeCount;
        j = nextSetBit(saturated, j + 1, planeCount)
      )
        planes.set(full, j * plane);
      const source = Bitmap.empty(node.inShape);
      transferLinks(node, source, planes, false);
      return source;
    },

    pool(node: NetPool, alive: Bitmap): Bitmap {
      const out = Bitmap.empty(node.shape);
      forEachPoolLink(node, (ch, y, x, sy, sx) => {
        if (alive.get(ch, sy, sx)) out.set(ch, y, x);
      });
      return out;
    },

    poolBack(node: NetPool, reach: Bitmap): Bitmap {
      const source = Bitmap.empty(node.inShape);
      forEachPoolLink(node, (ch, y, x, sy, sx) => {
        if (reach.get(ch, y, x)) source.set(ch, sy, sx);
      });
      return source;
    },

    // Equal planes stack channel-major, so concatenation is a copy of whole word ranges.
    concat(node, alive) {
      const out = Bitmap.empty(node.shape);
      let offset = 0;
      for (const map of alive) {
        out.words.set(map.words, offset);
        offset += map.words.length;
      }
      return out;
    },

    concatBack(_node, reach, inShapes) {
      let offset = 0;
      return inShapes.map((shape) => {
        const source = Bitmap.empty(shape);
        source.words.set(reach.words.subarray(offset, offset + source.words.length));
        offset += source.words.length;
        return source;
      });
    },

    links(node, alive) {
      const out = Bitmap.empty(node.shape);
      forEachLink(node, (u, input, v) => {
        if (alive[input].getUnit(v)) out.setUnit(u);
      });
      return out;
    },

    linksBack(node, reach, inShapes) {
      const sources = inShapes.map((shape) => Bitmap.empty(shape));
      forEachLink(node, (u, input, v) => {
        if (reach.getUnit(u)) sources[input].setUnit(v);
      });
      return sources;
    },

    effective(
      node: NetLayer,
      mask: PackedMask,
      _aliveIn: Bitmap,
      reachOut: Bitmap,
      out: Uint8Array | null,
    ): number {
      const [outChannels, outH, outW] = node.shape;
      const { fanIn } = node;
      const outPerGroup = outChannels / node.groups;
      const { gathered, readsLive } = forwardByNode.get(node.id)!;
      const plane = reachOut.plane;
      const reachFull = planeFlags(reachOut.words, outChannels, fullPlane(outH, outW), 'full');
      const bits = mask.words;
      const words = reachOut.words;
      let effective = 0;
      for (let o = 0; o < outChannels; o++) {
        const firstPlane = Math.floor(o / outPerGroup) * fanIn;
        const maskRow = o * fanIn;
        const end = maskRow + fanIn;
        if (bitAt(reachFull, o)) {
          // The output channel reaches everywhere: a weight is effective iff it reads a live unit.
          effective += countBothBits(bits, maskRow, readsLive, firstPlane, fanIn);
          if (out)
            for (let k = nextSetBit(bits, maskRow, end); k < end; k = nextSetBit(bits, k + 1, end))
              if (bitAt(readsLive, firstPlane + k - maskRow)) out[k] = 1;
          continue;
        }
        if (reachOut.channelIsEmpty(o)) continue;
        const reachBase = o * plane;
        for (let k = nextSetBit(bits, maskRow, end); k < end; k = nextSetBit(bits, k + 1, end)) {
          const j = firstPlane + k - maskRow;
          if (!bitAt(readsLive, j)) continue;
          const src = j * plane;
          for (let p = 0; p < plane; p++) {
            if ((words[reachBase + p] & gathered[src + p]) !== 0) {
              effective++;
              if (out) out[k] = 1;
              break;
            }
          }
        }
      }
      return effective;
    },
  };
}
