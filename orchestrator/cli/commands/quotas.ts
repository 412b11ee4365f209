import type { Command } from 'commander';
import { z } from 'zod';
import { formatPercent } from '../../../common/format.ts';
import { architecture } from '../../../worker/arch/zoo.ts';
import { layerQuotas } from '../../../worker/quotas/quotas.ts';
import { flags, parseOptions, targetSparsity } from '../options.ts';
import { formatCount, printJson, renderTable } from '../output.ts';

const schema = z.object({
  arch: flags.arch,
  dataset: flags.dataset.optional(),
  method: flags.quota,
  sparsity: flags.sparsity.optional(),
  compression: flags.compression.optional(),
  json: flags.json,
});

export function register(program: Command): void {
  program
    .command('quotas')
    .description('per-layer sparsities a layerwise quota assigns for a global target')
    .requiredOption('--arch <name>', 'architecture')
    .requiredOption('--method <method>', 'uniform | erk | igq | uniform_plus')
    .option('--sparsity <s>', 'global sparsity in [0, 1]')
    .option('--compression <c>', 'global compression ≥ 1 (sparsity = 1 − 1/c)')
    .option('--dataset <name>', 'dataset the network is shaped for (default: its own)')
    .option('--json', 'print one JSON document')
    .action((raw: object) => {
      const options = parseOptions(schema, raw);
      const arch = architecture(options.arch, options.dataset);
      const sparsity = targetSparsity(options);
      const quotas = layerQuotas(arch, options.method, sparsity);
      const layers = arch.layers.map((layer, k) => ({
        name: layer.name,
        params: layer.params,
        sparsity: quotas[k],
      }));
      if (options.json) return printJson({ arch: arch.name, method: options.method, sparsity, layers });
      process.stdout.write(
        renderTable(
          [
            { header: 'layer', align: 'left' },
            { header: 'params' },
            { header: 'sparsity' },
            { header: 'kept' },
          ],
          layers.map((l) => [
            l.name,
            formatCount(l.params),
            formatPercent(l.sparsity),
            formatCount(Math.round(l.params * (1 - l.sparsity))),
          ]),
          [
            [
              'total',
              formatCount(arch.totalParams),
              formatPercent(sparsity),
              formatCount(Math.round(arch.totalParams * (1 - sparsity))),
            ],
          ],
        ),
      );
    });
}
