import type { Shape3 } from '../arch/graph.ts';

/**
 * A 0/1 activation map `[c, h, w]` with each row packed into 32-bit words, so that OR-ing whole
 * maps (the inner loop of exact connectivity) touches `h · ⌈w/32⌉` words instead of `h · w` bytes.
 */
export class Bitmap {
  readonly wordsPerRow: number;
  /** Words per channel. */
  readonly plane: number;

  constructor(
    readonly c: number,
    readonly h: number,
    readonly w: number,
    readonly words: Uint32Array = new Uint32Array(c * h * Math.ceil(w / 32)),
  ) {
    this.wordsPerRow = Math.ceil(w / 32);
    this.plane = h * this.wordsPerRow;
  }

  static empty(shape: Shape3): Bitmap {
    return new Bitmap(shape[0], shape[1], shape[2]);
  }

  static full(shape: Shape3): Bitmap {
    const map = Bitmap.empty(shape);
    const plane = fullPlane(shape[1], shape[2]);
    for (let ch = 0; ch < map.c; ch++) map.words.set(plane, ch * map.plane);
    return map;
  }

  get(ch: number, y: number, x: number): number {
    return (this.words[ch * this.plane + y * this.wordsPerRow + (x >>> 5)] >>> (x & 31)) & 1;
  }

  set(ch: number, y: number, x: number): void {
    this.words[ch * this.plane + y * this.wordsPerRow + (x >>> 5)] |= 1 << (x & 31);
  }

  /** Unit `u` in row-major (channel, row, column) order. */
  getUnit(u: number): number {
    const area = this.h * this.w;
    const ch = Math.floor(u / area);
    const rest = u - ch * area;
    const y = Math.floor(rest / this.w);
    return this.get(ch, y, rest - y * this.w);
  }

  setUnit(u: number): void {
    const area = this.h * this.w;
    const ch = Math.floor(u / area);
    const rest = u - ch * area;
    const y = Math.floor(rest / this.w);
    this.set(ch, y, rest - y * this.w);
  }

  channelIsEmpty(ch: number): boolean {
    const end = (ch + 1) * this.plane;
    for (let k = ch * this.plane; k < end; k++) if (this.words[k] !== 0) return false;
    return true;
  }

  union(other: Bitmap): Bitmap {
    const words = this.words.slice();
    for (let k = 0; k < words.length; k++) words[k] |= other.words[k];
    return new Bitmap(this.c, this.h, this.w, words);
  }
}

/** One channel plane `h × w` with every valid bit set (padding bits beyond w stay 0). */
export function fullPlane(h: number, w: number): Uint32Array {
  const wordsPerRow = Math.ceil(w / 32);
  const plane = new Uint32Array(h * wordsPerRow);
  for (let y = 0; y < h; y++) {
    for (let word = 0; word < wordsPerRow; word++) {
      const bits = Math.min(32, w - word * 32);
      plane[y * wordsPerRow + word] = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    }
  }
  return plane;
}
