import type { Command } from 'commander';
import { z } from 'zod';
import { architecture } from '../../../worker/arch/zoo.ts';
import { writeMaskFile } from '../../../worker/masks/mask-file.ts';
import { readWeightFile } from '../../../worker/masks/weight-file.ts';
import { pruner, prunerNames } from '../../../worker/pruners/catalog.ts';
import { PRUNING_TYPES, prune } from '../../../worker/pruners/prune.ts';
import { pruneContext } from '../../../worker/pruners/setup.ts';
import { analyze } from '../../../worker/sparsity/analysis.ts';
import { selectBackend } from '../../../worker/tf/backend.ts';
import { flags, outputFile, parseOptions, targetSparsity } from '../options.ts';
import { printSparsityReport } from './analyze.ts';

const schema = z.object({
  arch: flags.arch,
  dataset: flags.dataset.optional(),
  pruner: z.string(),
  sparsity: flags.sparsity.optional(),
  compression: flags.compression.optional(),
  type: z.enum(PRUNING_TYPES, { error: (i) => `must be direct or effective, got '${String(i.input)}'` }),
  seed: z.string().regex(/^\d+$/, { error: 'must be a non-negative integer' }).transform(Number),
  out: outputFile,
  weights: z.string().optional(),
  init: z.string().optional(),
  dataDir: z.string().optional(),
  batches: z
    .string()
    .regex(/^[1-9]\d*$/, { error: 'must be a positive integer' })
    .transform(Number)
    .optional(),
  backend: z.string().optional(),
  json: flags.json,
});

export function register(program: Command): void {
  program
    .command('prune')
    .description('prune an architecture at initialization (or from a dense run) and write the masks')
    .requiredOption('--arch <name>', 'architecture')
    .requiredOption('--pruner <name>', `pruning algorithm (${prunerNames().join(', ')})`)
    .option('--sparsity <s>', 'target sparsity in [0, 1] (direct or effective, per --type)')
    .option('--compression <c>', 'target compression ≥ 1 (sparsity = 1 − 1/c)')
    .option(
      '--type <type>',
      'direct: remove that fraction; effective: reach that effective sparsity',
      'direct',
    )
    .option('--seed <n>', 'seed of the initialization and of random choices', '0')
    .requiredOption('--out <file.npz>', 'where to write the masks (torch layout)')
    .option('--dataset <name>', 'dataset the network is shaped for and scored on (default: its own)')
    .option('--weights <file.npz>', "the dense run's final weights (magnitude/*, lamp)")
    .option(
      '--init <file.npz>',
      'initial weights to prune (default: the reference initialization from --seed)',
    )
    .option('--data-dir <dir>', 'where cifar/tinyimagenet files are (default: $ESWEEP_DATA_DIR)')
    .option('--batches <n>', 'training batches data-driven scores average over (default ≈ 10 examples/class)')
    .option('--backend <name>', 'tfjs backend: gpu | node | wasm | cpu (default: the fastest available)')
    .option('--json', 'print the analysis as one JSON document')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const arch = architecture(options.arch, options.dataset);
      const algorithm = pruner(options.pruner);
      const sparsity =
        algorithm.keepsEveryWeight && options.sparsity === undefined && options.compression === undefined
          ? 0
          : targetSparsity(options);
      await selectBackend(options.backend);
      const ctx = await pruneContext({
        arch,
        pruner: algorithm,
        seed: options.seed,
        dataDir: options.dataDir,
        scoreBatches: options.batches,
        initialWeights: options.init ? await readWeightFile(options.init, arch) : undefined,
        trainedWeights: options.weights ? await readWeightFile(options.weights, arch) : undefined,
      });
      try {
        const masks = await prune(ctx, algorithm, { sparsity, type: options.type });
        await writeMaskFile(options.out, arch, masks);
        printSparsityReport(analyze(arch, masks), options.json);
      } finally {
        ctx.dispose();
      }
    });
}
