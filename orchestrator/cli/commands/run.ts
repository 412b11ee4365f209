import type { Command } from 'commander';
import { z } from 'zod';
import { INTERRUPTED_EXIT_CODE } from '../../../common/errors.ts';
import { formatDuration } from '../../../worker/report/console.ts';
import { type LocalRunOutcome, runSweepLocally } from '../../run/local.ts';
import { comparisonText, resultsText } from '../../run/tables.ts';
import { numberIn, parseOptions } from '../options.ts';
import { formatCount, printJson } from '../output.ts';

const schema = z.object({
  home: z.string().min(1),
  database: z.string().min(1).optional(),
  parallel: numberIn('must be a whole number ≥ 1', (n) => Number.isInteger(n) && n >= 1).optional(),
  report: z.string().min(1).optional(),
  force: z.boolean().optional(),
  json: z.boolean().optional(),
});

function printOutcome(outcome: LocalRunOutcome): void {
  const { counts } = outcome;
  const out = process.stdout;
  if (outcome.results.some((r) => r.accuracy !== null)) {
    out.write(`\n${comparisonText(outcome.comparison)}\n${resultsText(outcome.results)}`);
  }
  const state = outcome.finished
    ? `sweep ${outcome.sweep.name} ${outcome.sweep.status}`
    : `sweep ${outcome.sweep.name} interrupted (run the same command again to resume)`;
  out.write(
    `\n${state}: ${formatCount(counts.completed)} completed, ${formatCount(counts.failed)} failed, ` +
      `${formatCount(counts.pending)} pending in ${formatDuration(outcome.seconds)}\n`,
  );
  if (outcome.report) out.write(`report: ${outcome.report}\n`);
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a whole sweep on this machine (local processes, embedded database); rerun to resume')
    .argument('<file>', 'sweep file (YAML)')
    .option('--home <dir>', 'where the database, artifacts and reports live', '.esweep')
    .option('--database <location>', 'postgres://… URL or pglite:DIR (default pglite:<home>/db)')
    .option('--parallel <n>', 'trials at once when the sweep sets no maxParallel (default: the core count)')
    .option('--report <file.html>', 'where to write the HTML report (default <home>/reports/<sweep>.html)')
    .option('--force', 'allow a grid above the 20,000-trial limit')
    .option('--json', 'print one JSON document at the end')
    .action(async (file: string, raw: object) => {
      const options = parseOptions(schema, raw);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const outcome = await runSweepLocally(file, {
          home: options.home,
          database: options.database,
          parallel: options.parallel,
          report: options.report,
          force: options.force,
          progress: process.stderr,
          signal: controller.signal,
        });
        if (options.json) printJson(outcome);
        else printOutcome(outcome);
        if (!outcome.finished) process.exitCode = INTERRUPTED_EXIT_CODE;
        else if (outcome.counts.failed > 0) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
