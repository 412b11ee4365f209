import { writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { INTERRUPTED_EXIT_CODE } from '../../../common/errors.ts';
import { formatCompression, formatPercent, toJson } from '../../../common/format.ts';
import { consoleReporter } from '../../../worker/report/console.ts';
import type { TrialResult } from '../../../worker/report/reporter.ts';
import { teeReporter } from '../../../worker/report/tee.ts';
import { TrainingInterrupted } from '../../../worker/train/loop.ts';
import { runTrial } from '../../../worker/trial/run.ts';
import { readTrialFile } from '../../../worker/trial/spec.ts';
import { orchestratedEnv, startOrchestratedRun } from '../../events/worker-pipeline.ts';
import { outputFile, parseOptions } from '../options.ts';
import { printJson } from '../output.ts';

const schema = z.object({
  trial: z.string().min(1),
  out: outputFile.optional(),
  backend: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  denseFrom: z.string().min(1).optional(),
  weightsOut: z.string().min(1).optional(),
  json: z.boolean().optional(),
});

function summary(result: TrialResult): string {
  return (
    `test accuracy ${formatPercent(result.accuracy)} (best ${formatPercent(result.bestAccuracy)}), ` +
    `loss ${result.loss.toFixed(4)}, ${result.steps} steps in ${result.seconds.toFixed(1)} s on ${result.backend}\n` +
    `direct compression ${formatCompression(result.directCompression)}, ` +
    `effective compression ${formatCompression(result.effectiveCompression)}\n` +
    (result.weights ? `dense weights: ${result.weights.initial}, ${result.weights.final}\n` : '')
  );
}

export function register(program: Command): void {
  program
    .command('train')
    .description('run one trial: prune, train with the masks, evaluate (progress on stderr)')
    .requiredOption(
      '--trial <file.json>',
      '{"arch","dataset"?,"pruner","type","sparsity"|"compression","seed","budget":{"epochs"|"iterations"}}',
    )
    .option('--out <result.json>', 'also write the result JSON here')
    .option('--backend <name>', 'force a tfjs backend: gpu, node, wasm or cpu (default: the best available)')
    .option(
      '--data-dir <dir>',
      'where cifar10/cifar100/tinyimagenet/fashion-mnist live (default $ESWEEP_DATA_DIR)',
    )
    .option('--dense-from <dir>', "magnitude/LAMP: the dense trial's --weights-out directory")
    .option(
      '--weights-out <dir>',
      "dense trials: where to save initial and final weights (default: --out's directory, else .)",
    )
    .option('--json', 'print the result as one JSON document')
    .action(async (raw: object) => {
      const options = parseOptions(schema, raw);
      const spec = await readTrialFile(options.trial);
      // Under the orchestrator (ESWEEP_SWEEP_ID set) events also go to the pipeline, flushed before exit.
      const env = orchestratedEnv();
      const orchestrated = env ? await startOrchestratedRun(spec, env) : undefined;
      const log = consoleReporter(process.stderr);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result: TrialResult;
      try {
        result = await runTrial(spec, {
          reporter: orchestrated ? teeReporter(orchestrated.reporter, log) : log,
          backend: options.backend,
          dataDir: options.dataDir,
          denseFrom: options.denseFrom ?? orchestrated?.denseFrom,
          weightsOut:
            options.weightsOut ?? orchestrated?.weightsOut ?? (options.out ? dirname(options.out) : '.'),
          signal: controller.signal,
        });
      } catch (error) {
        if (!(error instanceof TrainingInterrupted)) throw error;
        process.stderr.write(`esweep: ${error.message}\n`);
        process.exitCode = INTERRUPTED_EXIT_CODE;
        return;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await orchestrated?.close();
      }
      if (options.out) await writeFile(options.out, `${toJson(result)}\n`);
      if (options.json) printJson(result);
      else process.stdout.write(summary(result));
    });
}
