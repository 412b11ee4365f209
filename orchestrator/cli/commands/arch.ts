import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { Architecture } from '../../../worker/arch/graph.ts';
import { ARCHITECTURE_NAMES, architecture } from '../../../worker/arch/zoo.ts';
import { flags, parseOptions } from '../options.ts';
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

const schema = z.object({ dataset: flags.dataset.optional(), json: flags.json });

export function register(program: Command): void {
  program
    .command('arch')
    .description('describe an architecture: its prunable layers in forward order (torch layout)')
    .argument('<name>', `architecture (${ARCHITECTURE_NAMES.join(', ')})`)
    .addOption(new Option('--dataset <name>', 'shape the network for this dataset (default: its own)'))
    .option('--json', 'print one JSON document')
    .action((name: string, raw: object) => {
      const options = parseOptions(schema, raw);
      const doc = describeArchitecture(architecture(name, options.dataset));
      if (options.json) return printJson(doc);
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
