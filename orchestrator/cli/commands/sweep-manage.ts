// `esweep sweep status|results|compare|report|cancel|retry`: reading and steering a recorded sweep,
// in any esweep database (the cluster's Postgres or the embedded one).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../../worker/errors.ts';
import type { PrismaClient } from '../../db/client.ts';
import type { Repositories, Sweep } from '../../db/repositories.ts';
import { retryFailedTrials } from '../../db/sweep-admin.ts';
import { comparePruners, sweepResults } from '../../query/index.ts';
import { loadReportData } from '../../report/data.ts';
import { renderReport } from '../../report/html.ts';
import { ProgressDisplay, progressLines, sweepProgress } from '../../run/progress.ts';
import { comparisonText, resultsCsv, resultsText, targetGrid } from '../../run/tables.ts';
import { databaseHelp, withRepositories } from '../database.ts';
import { numberIn, parseOptions } from '../options.ts';
import { printJson } from '../output.ts';

async function findSweep(repos: Repositories, idOrName: string): Promise<Sweep> {
  const found = await repos.findSweep(idOrName);
  if (!found) throw new InputError(`no sweep with id or name '${idOrName}'`);
  return found;
}

/** Trials at once, for the ETA: the sweep's limit, else what is running now. */
async function parallelismOf(prisma: PrismaClient, sweep: Sweep): Promise<number> {
  if (sweep.maxParallel) return sweep.maxParallel;
  const running = await prisma.trial.count({
    where: { sweepId: sweep.id, status: { in: ['queued', 'running'] } },
  });
  return Math.max(1, running);
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

const statusSchema = z.object({
  database: z.string().optional(),
  json: z.boolean().optional(),
  watch: z.boolean().optional(),
  interval: numberIn('must be a positive number of seconds', (n) => n > 0),
});

const common = z.object({ database: z.string().optional(), json: z.boolean().optional() });
const resultsSchema = common.extend({ csv: z.boolean().optional() });
const reportSchema = z.object({ database: z.string().optional(), out: z.string().min(1) });

export function registerSweepManagement(sweep: Command): void {
  sweep
    .command('status')
    .description('trial counts by state, running trials and ETA (--watch: a live view)')
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp)
    .option('--watch', 'keep refreshing until the sweep finishes (Ctrl-C stops watching)')
    .option('--interval <s>', 'seconds between refreshes with --watch', '2')
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(statusSchema, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const snapshot = async () =>
          sweepProgress(repos.prisma, found.id, await parallelismOf(repos.prisma, found));
        if (options.json) return printJson(await snapshot());
        if (!options.watch) {
          process.stdout.write(`${progressLines(await snapshot()).join('\n')}\n`);
          return;
        }
        const stop = new AbortController();
        const onSigint = () => stop.abort();
        process.once('SIGINT', onSigint);
        const display = new ProgressDisplay(process.stdout);
        try {
          while (!stop.signal.aborted) {
            const progress = await snapshot();
            display.show(progress);
            if (FINISHED.has(progress.sweep.status)) break;
            await sleep(options.interval * 1000, undefined, { signal: stop.signal }).catch(() => {});
          }
        } finally {
          process.off('SIGINT', onSigint);
        }
      });
    });

  sweep
    .command('results')
    .description('every trial with its direct and effective compression and accuracy')
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp)
    .option('--csv', 'print CSV')
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(resultsSchema, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const rows = await sweepResults(repos.prisma, found.id);
        if (options.json) return printJson({ sweep: { id: found.id, name: found.name }, results: rows });
        process.stdout.write(options.csv ? resultsCsv(rows) : resultsText(rows));
      });
    });

  sweep
    .command('compare')
    .description('test accuracy of each pruner at matched effective compression')
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(common, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const rows = await sweepResults(repos.prisma, found.id, { completedOnly: true });
        const comparison = await comparePruners(repos.prisma, found.id, { grid: targetGrid(rows) });
        if (options.json) return printJson({ sweep: { id: found.id, name: found.name }, ...comparison });
        process.stdout.write(
          comparison.archs.length > 0 ? comparisonText(comparison) : 'no completed trials yet\n',
        );
      });
    });

  sweep
    .command('report')
    .description('write the offline HTML report (charts, comparison, trials, the sweep file)')
    .argument('<sweep>', 'sweep name or id')
    .requiredOption('--out <file.html>', 'where to write it')
    .option('--database <location>', databaseHelp)
    .action(async (name: string, raw: object) => {
      const options = parseOptions(reportSchema, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const out = resolve(options.out);
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, renderReport(await loadReportData(repos.prisma, found.id)));
        process.stdout.write(`report: ${out}\n`);
      });
    });

  sweep
    .command('cancel')
    .description('cancel every unfinished trial (the controller deletes their runs)')
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(common, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const cancelled = await repos.cancelSweep(found.id);
        if (options.json) return printJson({ sweep: { id: found.id, name: found.name }, cancelled });
        process.stdout.write(`sweep ${found.name}: ${cancelled} trials cancelled\n`);
      });
    });

  sweep
    .command('retry')
    .description('put failed trials back to pending (each gets a new attempt)')
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp)
    .option('--json', 'print one JSON document')
    .action(async (name: string, raw: object) => {
      const options = parseOptions(common, raw);
      await withRepositories(options, async (repos) => {
        const found = await findSweep(repos, name);
        const retried = await retryFailedTrials(repos.prisma, found.id);
        if (options.json) return printJson({ sweep: { id: found.id, name: found.name }, retried });
        process.stdout.write(`sweep ${found.name}: ${retried} failed trials back to pending\n`);
      });
    });
}
