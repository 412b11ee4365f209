/**
 * The ONNX path of bench:sparsity: parsing and analysing the VGG-19 export (random masks, zeros in
 * the file; its bytes already in memory) against analysing the same masks on the zoo graph, measured
 * in the same run. Target: ONNX ≤ 2× the zoo figure. Reading the file is reported beside it.
 * The two take turns (which one goes first alternates), and the figure is the median of the ratios of
 * each pair, in CPU time of this process: both sides are synchronous JavaScript on this thread, and
 * on a shared machine the wall time mostly measures waiting for a core (the wall figures are
 * reported beside).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { architecture } from '../worker/arch/zoo.ts';
import { exportOnnx } from '../worker/onnx/export.ts';
import { loadOnnx } from '../worker/onnx/model.ts';
import { Rng, randomMask } from '../worker/random.ts';
import { analyze } from '../worker/sparsity/analysis.ts';
import { medianMs, ratio } from './timing.ts';

/** Pairs of (zoo, ONNX) runs after a warm-up pair. */
const PAIRS = 9;

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
  /** Median over the pairs of ONNX / zoo. */
  ratio: number;
  /** Smallest and largest ratio of a pair, to show how steady the figure is. */
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
    const bytes = await readFile(path);
    const zoo = () => analyze(arch, masks);
    const onnx = () => {
      const { net, masks: fromZeros } = loadOnnx(bytes, path);
      return analyze(net, fromZeros);
    };
    const wall: { zoo: number[]; onnx: number[] } = { zoo: [], onnx: [] };
    /** CPU milliseconds of `run`; its wall milliseconds go to `wall[side]`. */
    const ms = (side: 'zoo' | 'onnx') => {
      const run = side === 'zoo' ? zoo : onnx;
      const start = performance.now();
      const cpu = process.cpuUsage();
      run();
      const used = process.cpuUsage(cpu);
      wall[side].push(performance.now() - start);
      return (used.user + used.system) / 1000;
    };
    ms('zoo');
    ms('onnx');
    wall.zoo.length = 0;
    wall.onnx.length = 0;
    const pairs: { zoo: number; onnx: number }[] = [];
    for (let p = 0; p < PAIRS; p++) {
      if (p % 2 === 0) {
        const z = ms('zoo');
        pairs.push({ zoo: z, onnx: ms('onnx') });
      } else {
        const o = ms('onnx');
        pairs.push({ zoo: ms('zoo'), onnx: o });
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const zooMs = median(pairs.map((p) => p.zoo));
    const onnxMs = median(pairs.map((p) => p.onnx));
    const r = ratio(median(pairs.map((p) => p.onnx / p.zoo)), 1);
    const readMs = await medianMs(() => readFile(path));
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      arch: name,
      sparsity,
      zooMs: round(zooMs),
      onnxMs: round(onnxMs),
      wallMs: { zoo: round(median(wall.zoo)), onnx: round(median(wall.onnx)) },
      readMs: round(readMs),
      pairs: PAIRS,
      ratio: r,
      ratioRange: [
        ratio(Math.min(...pairs.map((p) => p.onnx / p.zoo)), 1),
        ratio(Math.max(...pairs.map((p) => p.onnx / p.zoo)), 1),
      ],
      pass: r <= ONNX_TARGET_RATIO,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
