import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../../common/errors.ts';
import { formatCompression, formatPercent } from '../../../common/format.ts';
import { architecture } from '../../../worker/arch/zoo.ts';
import { readMaskFile } from '../../../worker/masks/mask-file.ts';
import { analyzeOnnxFile } from '../../../worker/onnx/model.ts';
import { analyze, type SparsityMethod, type SparsityReport } from '../../../worker/sparsity/analysis.ts';
import { flags, parseOptions } from '../options.ts';
import { formatCount, printJson, renderTable } from '../output.ts';

/** Per layer and overall: params, direct and effective counts, sparsities and compressions. */
export function renderSparsityReport(report: SparsityReport): string {
  const row = (name: string, shape: string, params: number, direct: number, effective: number) => [
    name,
    shape,
    formatCount(params),
    formatCount(direct),
    formatCount(effective),
    formatPercent(1 - direct / params),
    formatPercent(1 - effective / params),
  ];
  const table = renderTable(
    [
      { header: 'layer', align: 'left' },
      { header: 'shape' },
      { header: 'params' },
      { header: 'direct' },
      { header: 'effective' },
      { header: 'direct sparsity' },
      { header: 'effective sparsity' },
    ],
    report.layers.map((l) => row(l.name, l.shape.join('×'), l.params, l.direct, l.effective)),
    [row('total', '', report.total, report.direct, report.effective)],
  );
  return (
    `${table}\n${report.arch}: direct compression ${formatCompression(report.directCompression)}, ` +
    `effective compression ${formatCompression(report.effectiveCompression)}\n`
  );
}

/** Prints an analysis as the `--json` document or as the table. */
export function printSparsityReport(report: SparsityReport, json: boolean | undefined): void {
  if (json) printJson(report);
  else process.stdout.write(renderSparsityReport(report));
}

const schema = z
  .object({
    arch: flags.arch.optional(),
    model: z.string().min(1).optional(),
    masks: z.string().min(1).optional(),
    dataset: flags.dataset.optional(),
    layout: flags.layout,
    method: flags.sparsityMethod,
    json: flags.json,
  })
  .refine((o) => (o.arch === undefined) !== (o.model === undefined), {
    error: 'give exactly one of --arch and --model',
  })
  .refine((o) => o.model === undefined || o.dataset === undefined, {
    error: '--dataset applies to --arch only (a model has its own input size)',
    path: ['dataset'],
  });

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      'direct and effective sparsity of a zoo mask file or of an ONNX model, per layer and overall',
    )
    .option('--arch <name>', 'architecture the masks belong to')
    .option(
      '--model <file.onnx>',
      "any feed-forward ONNX model (docs/onnx.md); the mask is its weights' zero pattern unless --masks gives one",
    )
    .option(
      '--masks <file.npz>',
      'one array per prunable layer, keyed by layer name (--arch) or weight initializer name (--model); non-zero = kept',
    )
    .option('--dataset <name>', 'dataset the network is shaped for (default: its own; --arch only)')
    .option(
      '--layout <layout>',
      'weight layout of the arrays with --arch: torch (out,in,kh,kw) or keras (kh,kw,in,out)',
      'torch',
    )
    .option(
      '--method <method>',
      'exact (padding-aware, reported figure) or graph (channel-level upper bound)',
      'exact',
    )
    .option('--json', 'print one JSON document')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const method = options.method as SparsityMethod;
      if (options.model !== undefined) {
        printSparsityReport(await analyzeOnnxFile(options.model, options.masks, method), options.json);
        return;
      }
      if (options.masks === undefined) {
        throw new InputError(
          "required option '--masks <file.npz>' not specified (an architecture has no weights)",
        );
      }
      const arch = architecture(options.arch!, options.dataset);
      const masks = await readMaskFile(options.masks, arch, options.layout as 'torch' | 'keras');
      printSparsityReport(analyze(arch, masks, method), options.json);
    });
}
