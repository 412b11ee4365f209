/**
 * The ONNX path of bench:sparsity: parsing and analysing the VGG-19 export (random masks, zeros in
 * the file; its bytes already read into a WebAssembly memory, as the CLI reads them) against
 * analysing the same masks on the zoo graph, measured in the same run. Target: ONNX ≤ 2× the zoo
 * figure. Reading the file (the same way) is reported beside it.
 * The two take turns in interleaved pairs (bench/sparsity-pairs.ts), timed in CPU time of this
 * process: both sides are synchronous JavaScript on this thread.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architecture } from '../worker/arch/zoo.ts';
import { exportOnnx } from '../worker/onnx/export.ts';
import { loadOnnx } from '../worker/onnx/model.ts';
import { readModelBytes } from '../worker/onnx/wasm-scan.ts';
import { Rng, randomMask } from '../worker/random.ts';
import { analyze } from '../worker/sparsity/analysis.ts';
import { interleavedPairs, median, summarisePairs } from './sparsity-pairs.ts';
import { medianMs, ratio } from './timing.ts';

/**
 * Pairs of (zoo, ONNX) runs, after warm-up pairs: the first ONNX runs pay for compiling the import,
 * and the allocator and the collector take a few runs to settle, which steady runs do not
 * (docs/performance.md). 42 pairs: the median of 21 blocks of two (a run takes 20–40 ms).
 */
const COUNTS = { warmup: 12, pairs: 42 };

export const ONNX_TARGET_RATIO = 2;

export interface OnnxRow {
  arch: string;
  sparsity: number;
  /** CPU milliseconds (median) of the zoo analysis. */
  zooMs: number;
  /** CPU milliseconds (median) to parse (decode, import, zero-pattern scan) and analyse. */
  onnxMs: number;
  /** Wall milliseconds (medians), for the record. */
  wallMs: { zoo: number; onnx: number };
  /** Reading the file, outside the target. */
  readMs: number;
  pairs: number;
  /** Median over blocks of two pairs of the block's ONNX / zoo CPU (bench/sparsity-pairs.ts). */
  ratio: number;
  /** Smallest and largest ratio of a block, to show how steady the figure is. */
  ratioRange: [number, number];
  pass: boolean;
}

export async function onnxPathRow(name = 'vgg19', sparsity = 0.99): Promise<OnnxRow> {
  const arch = architecture(name);
  const rng = new Rng(1);
  const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * (1 - sparsity)), rng));
  const weights = arch.layers.map((l) => new Float32Array(l.params).fill(0.5));
  const dir = await mkdtemp(join(tmpdir(), 'esweep-bench-onnx-'));
  try {
    const path = join(dir, `${name}.onnx`);
    await writeFile(path, exportOnnx(arch, { weights, masks }));
    const bytes = readModelBytes(path, 'ONNX model');
    const zoo = () => analyze(arch, masks);
    const onnx = () => {
      const { net, masks: fromZeros } = loadOnnx(bytes, path);
      return analyze(net, fromZeros);
    };
    const { cpu, wall } = interleavedPairs({ baseline: zoo, subject: onnx }, COUNTS);
    const figures = summarisePairs(cpu);
    const readMs = await medianMs(() => readModelBytes(path, 'ONNX model'));
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      arch: name,
      sparsity,
      zooMs: round(figures.baseline),
      onnxMs: round(figures.subject),
      wallMs: {
        zoo: round(median(wall.map((p) => p.baseline))),
        onnx: round(median(wall.map((p) => p.subject))),
      },
      readMs: round(readMs),
      pairs: COUNTS.pairs,
      ratio: ratio(figures.ratio, 1),
      ratioRange: [ratio(figures.range[0], 1), ratio(figures.range[1], 1)],
      pass: ratio(figures.ratio, 1) <= ONNX_TARGET_RATIO,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
