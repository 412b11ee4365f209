// `esweep run SWEEP.yaml`: a whole sweep on this machine with the cluster's code paths — the same
// controller with the local backend (child processes), the workers' events over IPC into the
// in-process transport, the same ingester, an embedded PGlite database under `.esweep/`. Running it
// again resumes: the sweep is resubmitted (a no-op for known trials), trials a killed run left in
// flight go back to pending, and completed trials are never run again.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { selectBackend } from '../../worker/tf/backend.ts';
import { assertTrainingFits } from '../../worker/train/footprint.ts';
import { Controller } from '../controller/controller.ts';
import { bridgeChild } from '../events/ipc.ts';
import { startEmbeddedPipeline } from '../ingest/embedded.ts';
import type { Comparison, ResultRow } from '../query/index.ts';
import { loadReportData } from '../report/data.ts';
import { renderReport } from '../report/html.ts';
import { LocalBackend } from '../scheduler/local/backend.ts';
import { assertReachable, describeTarget, openDatabase, parseDatabaseTarget } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { submitPlan } from '../store/plan-records.ts';
import { storeOf } from '../store/prisma-store.ts';
import type { StatusCounts } from '../store/store.ts';
import type { SweepPlan } from '../sweep/expand.ts';
import { loadSweep } from '../sweep/load.ts';
import { lockHome } from './home-lock.ts';
import { ProgressDisplay, type ProgressStream, sweepProgress } from './progress.ts';
import { sweepComparison } from './tables.ts';

export interface LocalRunOptions {
  /** Where the database, artifacts and reports live (default `.esweep`). */
  home?: string;
  /** Database location (default `pglite:<home>/db`). */
  database?: string;
  /** Trials at once when the sweep sets no maxParallel (default: the core count). */
  parallel?: number;
  /** Where the HTML report goes (default `<home>/reports/<sweep>.html`). */
  report?: string;
  force?: boolean;
  /** The live display (stderr). */
  progress: ProgressStream;
  /** Aborting stops the sweep: runs are stopped and their trials go back to pending. */
  signal?: AbortSignal;
  /** How often the display is refreshed (default 1 s). */
  refreshMs?: number;
  /** The worker command (default `esweep train`); tests substitute their own. */
  command?: string[];
}

export interface LocalRunOutcome {
  sweep: { id: string; name: string; status: string };
  /** False when it was interrupted. */
  finished: boolean;
  counts: StatusCounts;
  addedTrials: number;
  report: string | null;
  results: ResultRow[];
  comparison: Comparison;
  seconds: number;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

export async function runSweepLocally(file: string, options: LocalRunOptions): Promise<LocalRunOutcome> {
  const started = performance.now();
  const home = resolve(options.home ?? '.esweep');
  const plan = await loadSweep(file, { force: options.force });
  // The workers pick the backend this process would; a trial too big for it is refused before anything starts.
  if (!options.command)
    assertTrainingFits(
      plan.trials.map((trial) => trial.spec),
      (await selectBackend()).name,
    );
  await mkdir(home, { recursive: true });
  const lock = lockHome(home);
  try {
    return await runLocked(plan, home, started, options);
  } finally {
    lock.release();
  }
}

async function runLocked(
  plan: SweepPlan,
  home: string,
  started: number,
  options: LocalRunOptions,
): Promise<LocalRunOutcome> {
  const target = parseDatabaseTarget(options.database ?? `pglite:${join(home, 'db')}`);
  const database = await openDatabase(target);
  try {
    await assertReachable(database, describeTarget(target));
    await migrate(database);
    const store = storeOf(database);
    const submitted = await submitPlan(store, plan, 'local');
    const sweepId = submitted.sweep.id;
    await store.requeueInterrupted(sweepId);
    await store.reopenIfPending(sweepId);

    const pipeline = startEmbeddedPipeline(store);
    const backend = new LocalBackend({
      parallelism: options.parallel,
      output: 'ignore',
      // Under the locked home: what a killed run left there is removed by the next one.
      dir: join(home, 'runs'),
      command: options.command,
      env: { ESWEEP_EVENTS: 'ipc', ESWEEP_ARTIFACT_DIR: join(home, 'artifacts') },
      onChild: (child) => bridgeChild(child, pipeline.transport),
    });
    const controller = new Controller(store, backend, { retryBaseMs: 2000, retryMaxMs: 30_000 });
    const display = new ProgressDisplay(options.progress);
    const snapshot = () => sweepProgress(store, sweepId, backend.defaultParallelism);
    await controller.start();
    let status = submitted.sweep.status as string;
    try {
      while (!options.signal?.aborted) {
        const progress = await snapshot();
        display.show(progress);
        status = progress.sweep.status;
        if (FINISHED.has(status)) break;
        await sleep(options.refreshMs ?? 1000, undefined, { signal: options.signal }).catch(() => {});
      }
    } finally {
      await controller.stop();
      // Stops the runs still going; their workers report the interruption before they exit.
      await backend.close();
      await pipeline.stop();
    }
    const finished = FINISHED.has(status);
    if (!finished) await store.requeueInterrupted(sweepId);
    const final = await snapshot();
    display.show(final);
    const results = await store.sweepResults(sweepId);
    const comparison = sweepComparison(results);
    let report: string | null = null;
    if (results.some((r) => r.accuracy !== null)) {
      report = resolve(options.report ?? join(home, 'reports', `${plan.spec.name}.html`));
      await mkdir(dirname(report), { recursive: true });
      await writeFile(
        report,
        await renderReport(await loadReportData(store, submitted.sweep, results, comparison)),
      );
    }
    return {
      sweep: final.sweep,
      finished,
      counts: final.counts,
      addedTrials: submitted.addedTrials,
      report,
      results,
      comparison,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await database.close();
  }
}
