/** Per-channel standardization: statistics from the training images, applied through a lookup table. */
import type { Split } from './types.ts';

export interface ChannelStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Mean and (population) standard deviation per channel of the pixels scaled to [0, 1]. */
export function channelStats(split: Split, channels: number): ChannelStats {
  const perChannel = split.images.length / channels;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    // Integer sums are exact in doubles at these sizes (≤ 1.2e9 pixels · 255²), so no drift.
    let sum = 0;
    let squares = 0;
    for (let i = c; i < split.images.length; i += channels) {
      const pixel = split.images[i];
      sum += pixel;
      squares += pixel * pixel;
    }
    const m = sum / perChannel;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(0, squares / perChannel - m * m)) / 255);
  }
  return { mean, std };
}

/** table[c·256 + pixel] = (pixel/255 − mean[c]) / std[c]; a constant channel (std 0) is only centred. */
export function normalizationTable(stats: ChannelStats): Float32Array {
  const table = new Float32Array(stats.mean.length * 256);
  stats.mean.forEach((mean, c) => {
    const scale = stats.std[c] > 0 ? stats.std[c] : 1;
    for (let pixel = 0; pixel < 256; pixel++) table[c * 256 + pixel] = (pixel / 255 - mean) / scale;
  });
  return table;
}

/** Normalizes `count` pixel values (whole images, channels last) from `source` into `target`. */
export function normalizeInto(
  source: Uint8Array,
  sourceOffset: number,
  target: Float32Array,
  targetOffset: number,
  count: number,
  channels: number,
  table: Float32Array,
): void {
  if (channels === 1) {
    for (let i = 0; i < count; i++) target[targetOffset + i] = table[source[sourceOffset + i]];
    return;
  }
  for (let i = 0; i < count; i += channels) {
    for (let c = 0; c < channels; c++) {
      target[targetOffset + i + c] = table[c * 256 + source[sourceOffset + i + c]];
    }
  }
}
