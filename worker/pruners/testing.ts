import type { Architecture } from '../arch/graph.ts';
import type { Dataset } from '../data/index.ts';
import { Rng } from '../random.ts';

/** An in-memory dataset of random images for the architecture's input (tests of data-driven scores). */
export function randomDataset(arch: Architecture, count: number, seed: number): Dataset {
  const [h, w, c] = arch.input;
  const rng = new Rng(seed);
  const split = () => ({
    count,
    images: Uint8Array.from({ length: count * h * w * c }, () => rng.int(256)),
    labels: Int32Array.from({ length: count }, () => rng.int(arch.classes)),
  });
  return {
    name: arch.dataset as Dataset['name'],
    input: arch.input,
    classes: arch.classes,
    train: split(),
    test: split(),
    mean: Array(c).fill(0.5),
    std: Array(c).fill(0.25),
    augmentation: null,
  };
}
