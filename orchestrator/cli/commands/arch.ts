import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { Architecture } from '../../../worker/arch/graph.ts';
import { ARCHITECTURE_NAMES, architecture } from '../../../worker/arch/zoo.ts';
import { readMaskFile } from '../../../worker/masks/mask-file.ts';
import { initialWeights } from '../../../worker/model/init.ts';
import { exportOnnx } from '../../../worker/onnx/export.ts';
import { flags, numberIn, parseOptions } from '../options.ts';
import { formatCount, printJson, renderTable } from '../output.ts';

/** The `esweep arch --json` document (docs/cli.md). */
export function describeArchitecture(arch: Architecture) {
  return {
    name: arch.name,
    dataset: arch.dataset,
    input: [...arch.input],
    classes: arch.classes,
    totalParams: arch.totalParams,
    layers: arch.layers.map((layer) => ({
      name: layer.name,
      kind: layer.kind,
      shape: [...layer.shape],
      params: layer.params,
    })),
  };
}

const schema = z
  .object({
    dataset: flags.dataset.optional(),
    onnx: z.string().min(1).optional(),
    seed: numberIn('must be a whole number ≥ 0', (n) => Number.isInteger(n) && n >= 0).optional(),
    masks: z.string().min(1).optional(),
    layout: flags.layout,
    json: flags.json,
  })
  .refine((o) => o.onnx !== undefined || (o.masks === undefined && o.seed === undefined), {
    error: '--seed and --masks only apply with --onnx',
    path: ['onnx'],
  });

/** Writes the ONNX export (reference initial weights, pruned by the masks when given). */
async function writeOnnx(
  arch: Architecture,
  path: string,
  options: { seed?: number; masks?: string; layout: string },
): Promise<number> {
  const masks = options.masks
    ? await readMaskFile(options.masks, arch, options.layout as 'torch' | 'keras')
    : undefined;
  const bytes = exportOnnx(arch, { weights: initialWeights(arch, options.seed ?? 0), masks });
  // Through a temporary file and a rename, so a reader never sees half a model.
  const partial = `${path}.${process.pid}.partial`;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(partial, bytes);
  await rename(partial, path);
  return bytes.length;
}

export function register(program: Command): void {
  program
    .command('arch')
    .description('describe an architecture: its prunable layers in forward order (torch layout)')
    .argument('<name>', `architecture (${ARCHITECTURE_NAMES.join(', ')})`)
    .addOption(new Option('--dataset <name>', 'shape the network for this dataset (default: its own)'))
    .option('--onnx <file.onnx>', 'also export it as an ONNX model (PyTorch conventions; docs/onnx.md)')
    .option('--seed <n>', 'seed of the reference initial weights in the export (default 0)')
    .option('--masks <file.npz>', 'zero the pruned weights of the export (mask file keyed by layer name)')
    .option('--layout <layout>', 'weight layout of the mask arrays: torch or keras', 'torch')
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(schema, raw);
      const arch = architecture(name, options.dataset);
      const onnx = options.onnx
        ? { path: options.onnx, bytes: await writeOnnx(arch, options.onnx, options) }
        : null;
      const doc = { ...describeArchitecture(arch), ...(onnx ? { onnx } : {}) };
      if (options.json) return printJson(doc);
      if (onnx) process.stdout.write(`wrote ${onnx.path} (${formatCount(onnx.bytes)} bytes)\n\n`);
      process.stdout.write(
        `${doc.name} on ${doc.dataset}: input ${doc.input.join('×')}, ${doc.classes} classes\n\n` +
          renderTable(
            [
              { header: 'layer', align: 'left' },
              { header: 'kind', align: 'left' },
              { header: 'shape' },
              { header: 'params' },
            ],
            doc.layers.map((l) => [l.name, l.kind, l.shape.join('×'), formatCount(l.params)]),
            [['total', '', '', formatCount(doc.totalParams)]],
          ),
      );
    });
}
