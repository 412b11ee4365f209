/**
 * The ONNX path of bench:sparsity: parsing and analysing the VGG-19 export (random masks, zeros in
 * the file; its bytes already in memory) against analysing the same masks on the zoo graph, measured
 * in the same run. Target: ONNX ≤ 2× the zoo figure. Reading the file is reported beside it.
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

export const ONNX_TARGET_RATIO = 2;

export interface OnnxRow {
  arch: string;
  sparsity: number;
  zooMs: number;
  /** Parse (decode, import, zero-pattern scan) and analyse. */
  onnxMs: number;
  /** Reading the file, outside the target. */
  readMs: number;
  ratio: number;
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
    const zooMs = await medianMs(() => analyze(arch, masks));
    const onnxMs = await medianMs(() => {
      const { net, masks: fromZeros } = loadOnnx(bytes, path);
      return analyze(net, fromZeros);
    });
    const readMs = await medianMs(() => readFile(path));
    const r = ratio(onnxMs, zooMs);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      arch: name,
      sparsity,
      zooMs: round(zooMs),
      onnxMs: round(onnxMs),
      readMs: round(readMs),
      ratio: r,
      pass: r <= ONNX_TARGET_RATIO,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
