// `esweep sweep status|results|compare|report|cancel|retry`: reading and steering a recorded sweep,
// in any esweep database (the cluster's Postgres or the embedded one). `status` and `cancel` also
// work on a Sweep object on the cluster when no database is configured (sweep-cluster.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../../common/errors.ts';
import { claimsText, sweepClaims } from '../../report/claims.ts';
import { ProgressDisplay, progressLines, type SweepProgress, sweepProgress } from '../../run/progress.ts';
import { comparisonText, resultsCsv, resultsText, sweepComparison } from '../../run/tables.ts';
import type { Store, Sweep } from '../../store/store.ts';
import { clusterOptionHelp, namespaceHelp, readsFromCluster } from '../cluster-route.ts';
import { databaseHelp, withStore } from '../database.ts';
import { numberIn, outputFile, parseOptions } from '../options.ts';
import { printJson } from '../output.ts';

// Loading the Kubernetes client is a large part of a command's start-up: only the commands on a Sweep
// object load it (docs/performance.md).
const sweepCluster = () => import('../sweep-cluster.ts');

async function findSweep(repos: Store, idOrName: string): Promise<Sweep> {
  const found = await repos.findSweep(idOrName);
  if (!found) throw new InputError(`no sweep with id or name '${idOrName}'`);
  return found;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

const common = z.object({ database: z.string().optional(), json: z.boolean().optional() });
const onCluster = common.extend({ cluster: z.string().optional(), namespace: z.string().optional() });
const statusSchema = onCluster.extend({
  watch: z.boolean().optional(),
  interval: numberIn('must be a positive number of seconds', (n) => n > 0),
});
const resultsSchema = common.extend({ csv: z.boolean().optional() });
const maxGap = numberIn('must be a ratio ≥ 1', (n) => n >= 1).optional();
const compareSchema = common.extend({ maxGap });
const reportSchema = common.extend({ out: outputFile, maxGap, trial: z.string().min(1).optional() });
const maxGapHelp = 'flag values interpolated across a gap wider than this compression ratio (default 2)';

/**
 * A sub-command on one recorded sweep: the `<sweep>` argument (name or id) and `--database`, plus
 * what `configure` adds; `run` gets the sweep found and the validated options. With `onObject`, the
 * command also works on a Sweep object (--cluster, --namespace) when no database is configured.
 * `readOnly`: `run` uses only the Store's plain reads (see AccessOptions).
 */
function sweepCommand<S extends z.ZodType<{ database?: string; cluster?: string; namespace?: string }>>(
  parent: Command,
  name: string,
  description: string,
  schema: S,
  configure: (command: Command) => Command,
  run: (repos: Store, sweep: Sweep, options: z.output<S>) => Promise<void>,
  how: {
    onObject?: (name: string, options: z.output<S>) => Promise<void>;
    readOnly?: boolean;
  } = {},
): void {
  const { onObject, readOnly } = how;
  const command = parent
    .command(name)
    .description(description)
    .argument('<sweep>', 'sweep name or id')
    .option('--database <location>', databaseHelp);
  if (onObject)
    command.option('--cluster <file>', clusterOptionHelp).option('--namespace <name>', namespaceHelp);
  configure(command).action(async (sweepName: string, raw: object) => {
    const options = parseOptions(schema, raw);
    if (onObject && readsFromCluster(options)) return onObject(sweepName, options);
    // Every one of these works on a recorded sweep: none may create a database.
    await withStore(options, async (repos) => run(repos, await findSweep(repos, sweepName), options), {
      existing: true,
      readOnly,
    });
  });
}

const withJson = (command: Command) => command.option('--json', 'print one JSON document');
const named = (sweep: Sweep) => ({ id: sweep.id, name: sweep.name });

async function watchProgress(snapshot: () => Promise<SweepProgress>, intervalSeconds: number): Promise<void> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  const display = new ProgressDisplay(process.stdout);
  try {
    while (!stop.signal.aborted) {
      const progress = await snapshot();
      display.show(progress);
      if (FINISHED.has(progress.sweep.status)) break;
      await sleep(intervalSeconds * 1000, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Failed trials listed with their reason under `sweep status`. */
const FAILED_SHOWN = 5;

export function registerSweepManagement(sweep: Command): void {
  sweepCommand(
    sweep,
    'status',
    'trial counts by state, running trials and ETA (--watch: a live view)',
    statusSchema,
    (command) =>
      withJson(
        command
          .option('--watch', 'keep refreshing until the sweep finishes (Ctrl-C stops watching)')
          .option('--interval <s>', 'seconds between refreshes with --watch', '2'),
      ),
    async (repos, found, options) => {
      const snapshot = () => sweepProgress(repos, found.id);
      if (options.json) return printJson(await snapshot());
      if (options.watch) return watchProgress(snapshot, options.interval);
      process.stdout.write(`${progressLines(await snapshot()).join('\n')}\n`);
      // Why trials failed (a bad image, a pod nobody can schedule, a worker error), a few at most.
      const failed = await repos.listTrials(found.id, { status: 'failed' });
      for (const t of failed.slice(0, FAILED_SHOWN))
        process.stdout.write(`  ✗ ${t.key} (attempt ${t.attempts}): ${t.error ?? 'failed'}\n`);
      if (failed.length > FAILED_SHOWN)
        process.stdout.write(`  … ${failed.length - FAILED_SHOWN} more failed\n`);
    },
    {
      onObject: async (name, options) => (await sweepCluster()).objectStatus(name, options),
      readOnly: true,
    },
  );

  sweepCommand(
    sweep,
    'results',
    'every trial with its direct and effective compression and accuracy',
    resultsSchema,
    (command) => withJson(command.option('--csv', 'print CSV')),
    async (repos, found, options) => {
      const rows = await repos.sweepResults(found.id);
      if (options.json) return printJson({ sweep: named(found), results: rows });
      process.stdout.write(options.csv ? resultsCsv(rows) : resultsText(rows));
    },
    { readOnly: true },
  );

  sweepCommand(
    sweep,
    'compare',
    "test accuracy of each pruner at matched effective compression, and the paper's claims checked",
    compareSchema,
    (command) => withJson(command.option('--max-gap <ratio>', maxGapHelp)),
    async (repos, found, options) => {
      const rows = await repos.sweepResults(found.id);
      const comparison = sweepComparison(rows, options.maxGap);
      const claims = sweepClaims(rows, comparison);
      if (options.json) return printJson({ sweep: named(found), ...comparison, claims });
      if (comparison.archs.length === 0) return void process.stdout.write('no completed trials yet\n');
      process.stdout.write(`${comparisonText(comparison)}\nclaims\n${claimsText(claims)}\n`);
    },
    { readOnly: true },
  );

  sweepCommand(
    sweep,
    'report',
    'write the offline HTML report (charts, comparison, trials, the sweep file)',
    reportSchema,
    (command) =>
      withJson(
        command
          .requiredOption('--out <file.html>', 'where to write it')
          .option('--max-gap <ratio>', maxGapHelp)
          .option(
            '--trial <id|key>',
            'the trial whose training curves it shows (default: the best at the highest target)',
          ),
      ),
    async (repos, found, options) => {
      const out = resolve(options.out);
      // The report's charts load Vega (a third of a second): only this command pays for it.
      const [{ loadReportData }, { renderReport }] = await Promise.all([
        import('../../report/data.ts'),
        import('../../report/html.ts'),
      ]);
      const rows = await repos.sweepResults(found.id);
      const data = await loadReportData(repos, found, rows, sweepComparison(rows, options.maxGap), {
        trial: options.trial,
      });
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, await renderReport(data));
      if (options.json) return printJson({ sweep: named(found), report: out });
      process.stdout.write(`report: ${out}\n`);
    },
  );

  sweepCommand(
    sweep,
    'cancel',
    'cancel every unfinished trial (the controller deletes their runs); on the cluster: delete the Sweep object',
    onCluster,
    withJson,
    async (repos, found, options) => {
      const cancelled = await repos.cancelSweep(found.id);
      if (options.json) return printJson({ sweep: named(found), cancelled });
      process.stdout.write(`sweep ${found.name}: ${cancelled} trials cancelled\n`);
    },
    { onObject: async (name, options) => (await sweepCluster()).cancelObject(name, options) },
  );

  sweepCommand(
    sweep,
    'retry',
    'put failed trials back to pending (each gets a new attempt)',
    common,
    withJson,
    async (repos, found, options) => {
      const retried = await repos.retryFailedTrials(found.id);
      if (options.json) return printJson({ sweep: named(found), retried });
      process.stdout.write(`sweep ${found.name}: ${retried} failed trials back to pending\n`);
    },
  );
}
