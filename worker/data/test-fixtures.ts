/**
 * Writers of tiny datasets in the real on-disk formats, for tests (never used at run time).
 * Pixel values are a known function of (record, channel, position) so readers can be checked exactly.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import jpeg from 'jpeg-js';

/** The pixel test files store for record `record`, channel `channel`, position `position` (y·w + x). */
export function pixelOf(record: number, channel: number, position: number): number {
  return (record * 7 + channel * 50 + position * 3) % 256;
}

export function writeIdx(path: string, dims: number[], data: Uint8Array, gzip = false): void {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, 0x08, dims.length]);
  dims.forEach((dim, axis) => {
    view.setUint32(4 + 4 * axis, dim, false);
  });
  const bytes = Buffer.concat([header, data]);
  writeFileSync(gzip ? `${path}.gz` : path, gzip ? gzipSync(bytes) : bytes);
}

/** MNIST-format files for `counts` train/test images with labels record % 10. */
export function writeMnistFormat(dir: string, counts: { train: number; test: number }, gzip = false): void {
  mkdirSync(dir, { recursive: true });
  for (const [prefix, count] of [
    ['train', counts.train],
    ['t10k', counts.test],
  ] as const) {
    const images = Uint8Array.from({ length: count * 784 }, (_, i) =>
      pixelOf(Math.floor(i / 784), 0, i % 784),
    );
    writeIdx(join(dir, `${prefix}-images-idx3-ubyte`), [count, 28, 28], images, gzip);
    writeIdx(
      join(dir, `${prefix}-labels-idx1-ubyte`),
      [count],
      Uint8Array.from({ length: count }, (_, i) => i % 10),
      gzip,
    );
  }
}

/** CIFAR binary records (label bytes, then 1024 R, 1024 G, 1024 B) numbered from `first`. */
export function cifarRecords(first: number, labels: number[][]): Uint8Array {
  const header = labels[0]?.length ?? 1;
  const out = new Uint8Array(labels.length * (header + 3072));
  labels.forEach((recordLabels, k) => {
    const base = k * (header + 3072);
    out.set(recordLabels, base);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) out[base + header + c * 1024 + p] = pixelOf(first + k, c, p);
    }
  });
  return out;
}

/**
 * A solid colour per class (from a small palette: jpeg-js spends ~80 ms setting up each encode,
 * so test folders reuse a few encoded files), so decoding can be checked against the label.
 */
export function colourOf(label: number): [number, number, number] {
  const k = label % 6;
  return [k * 50, 255 - k * 40, (k * 97 + 30) % 256];
}

const encoded = new Map<string, Uint8Array>();

export function jpegOf(colour: [number, number, number], side = 64): Uint8Array {
  const key = `${colour}/${side}`;
  const cached = encoded.get(key);
  if (cached) return cached;
  const data = new Uint8Array(side * side * 4);
  for (let i = 0; i < side * side; i++) data.set([...colour, 255], i * 4);
  const bytes = jpeg.encode({ width: side, height: side, data }, 95).data;
  encoded.set(key, bytes);
  return bytes;
}

/**
 * A Tiny ImageNet folder: 200 wnids (listed unsorted in wnids.txt), `perClass` training JPEGs per
 * class and `val` validation JPEGs with annotations. Returns the sorted wnids (label order).
 */
export function writeTinyImageNet(root: string, perClass: number, val: number): string[] {
  const wnids = Array.from(
    { length: 200 },
    (_, k) => `n${String(1000000 + ((k * 7919) % 200)).padStart(8, '0')}`,
  );
  mkdirSync(join(root, 'val', 'images'), { recursive: true });
  writeFileSync(join(root, 'wnids.txt'), `${wnids.join('\n')}\n`);
  const sorted = [...wnids].sort();
  sorted.forEach((wnid, label) => {
    const dir = join(root, 'train', wnid, 'images');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(root, 'train', wnid, `${wnid}_boxes.txt`), '');
    for (let k = 0; k < perClass; k++) writeFileSync(join(dir, `${wnid}_${k}.JPEG`), jpegOf(colourOf(label)));
  });
  const annotations: string[] = [];
  for (let k = 0; k < val; k++) {
    const label = (k * 37) % 200;
    writeFileSync(join(root, 'val', 'images', `val_${k}.JPEG`), jpegOf(colourOf(label)));
    annotations.push(`val_${k}.JPEG\t${sorted[label]}\t0\t0\t63\t63`);
  }
  writeFileSync(join(root, 'val', 'val_annotations.txt'), `${annotations.join('\n')}\n`);
  return sorted;
}
