/** Random-crop-with-padding and horizontal-flip augmentation, written straight into a normalized batch. */
import type { Rng } from '../random.ts';
import type { Augmentation } from './types.ts';

export interface CropAndFlip {
  /** Crop offset relative to the original image, each in [−padding, padding]. */
  shiftY: number;
  shiftX: number;
  flip: boolean;
}

export function drawCropAndFlip(augmentation: Augmentation, rng: Rng): CropAndFlip {
  const { padding } = augmentation;
  return {
    shiftY: rng.int(2 * padding + 1) - padding,
    shiftX: rng.int(2 * padding + 1) - padding,
    flip: augmentation.flip && rng.next() < 0.5,
  };
}

/**
 * Writes the normalized, cropped (and maybe mirrored) image: output pixel (y, x) is source pixel
 * (y + shiftY, x' + shiftX) with x' = w − 1 − x when flipped, and a zero (black) pixel outside
 * the source — as padding the raw image with zeros, cropping, flipping, then normalizing.
 */
export function augmentInto(
  source: Uint8Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  shape: readonly [h: number, w: number, c: number],
  table: Float32Array,
  { shiftY, shiftX, flip }: CropAndFlip,
): void {
  const [h, w, c] = shape;
  let out = targetOffset;
  for (let y = 0; y < h; y++) {
    const sy = y + shiftY;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + shiftX;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      const base = sourceOffset + (sy * w + sx) * c;
      for (let ch = 0; ch < c; ch++) target[out++] = table[ch * 256 + (inside ? source[base + ch] : 0)];
    }
  }
}
