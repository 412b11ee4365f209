// The controller: a level-triggered reconcile of the database (desired: sweeps and their trials)
// against the scheduler backend (actual: runs). Each pass reads both, decides per trial (decide.ts)
// and acts: create runs for runnable trials up to maxParallel, record outcomes, retry with backoff,
// replace stuck runs, delete runs nobody wants. It keeps no state that a restart would lose: run
// names are deterministic and a create that finds its Job already there is a no-op. Under leader
// election (leader.ts) it acts only while `mayAct` says so: every write checks it first, so a
// fenced leader's pass stops at its next write. Every decision is logged as one line (`decision`).
import type { RunRequest, RunStatus, SchedulerBackend } from '../scheduler/backend.ts';
import { runName } from '../scheduler/names.ts';
import type { ActiveSweep, ControllerStore, LaunchTrial, StatusCounts } from '../store/store.ts';
import { backoffCutoffs, decideSweep, isActive, retryDelayMs } from './decide.ts';
import { ControllerMetrics } from './metrics.ts';
import { PassLoop, type PassOutcome } from './pass-loop.ts';

export interface ControllerOptions {
  /** Delay between a change and the pass it triggers, to batch bursts (default 50 ms). */
  debounceMs?: number;
  /** Passes happen at least this often, to see database changes (default 2 s). */
  resyncMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A running trial without a heartbeat for this long is replaced (default 10 min). */
  heartbeatTimeoutMs?: number;
  /** Creates in flight at once (default 16). */
  createConcurrency?: number;
  log?: (entry: Record<string, unknown>) => void;
  now?: () => number;
  /** Whether this controller may write now (leader election's fence; default: always). */
  mayAct?: () => boolean;
}

/** What the controller decided about one run or trial, as logged (docs/high-availability.md). */
export interface DecisionEntry {
  decision: 'create' | 'delete' | 'retry' | 'fail' | 'complete';
  sweep: string;
  trial: string;
  attempt: number;
  run: string;
  reason: string;
  /** Of a create: whether the Job was new or already there. */
  result?: 'created' | 'exists';
}

/** A write refused because this controller no longer leads: the pass ends there. */
export class FencedError extends Error {
  constructor() {
    super('not the leader: the pass stops before this write');
    this.name = 'FencedError';
  }
}

/** How long a freshly created run may be missing from the backend's view before it counts as lost. */
const CREATE_GRACE_MS = 30_000;

export class Controller {
  readonly metrics = new ControllerMetrics();
  private readonly options: Required<Omit<ControllerOptions, 'log' | 'now' | 'mayAct'>>;
  private readonly log: (entry: Record<string, unknown>) => void;
  private readonly now: () => number;
  private readonly mayAct: () => boolean;
  private observing = false;
  private readonly passes: PassLoop;
  /** The wake-up at the end of the earliest retry backoff, over all sweeps. */
  private wake: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopped = true;
  private unsubscribe: (() => void) | undefined;
  /** Active runs of decided trials (active sweeps), by name: since when they were seen so. */
  private readonly finishing = new Map<string, number>();
  /** Runs created by this process that the backend has not reported yet. */
  private readonly recentlyCreated = new Map<string, number>();

  constructor(
    private readonly store: ControllerStore,
    private readonly backend: SchedulerBackend,
    options: ControllerOptions = {},
  ) {
    this.options = {
      debounceMs: options.debounceMs ?? 50,
      resyncMs: options.resyncMs ?? 2000,
      retryBaseMs: options.retryBaseMs ?? 10_000,
      retryMaxMs: options.retryMaxMs ?? 600_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 600_000,
      createConcurrency: options.createConcurrency ?? 16,
    };
    this.log = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.mayAct = options.mayAct ?? (() => true);
    this.passes = new PassLoop(() => this.pass(), { debounceMs: this.options.debounceMs });
  }

  /** Starts observing the backend without acting (a candidate keeps its view warm for a takeover). */
  async observe(): Promise<void> {
    if (this.observing) return;
    this.observing = true;
    await this.backend.start();
    this.metrics.ready = true;
  }

  /** Starts observing the backend, then reconciles on every change and every resync period. */
  async start(): Promise<void> {
    await this.observe();
    this.stopped = false;
    this.unsubscribe = this.backend.onChange(() => this.poke());
    this.resync = setInterval(() => this.poke(), this.options.resyncMs);
    this.passes.start();
  }

  /** Asks for a reconcile pass soon (passes never overlap; a request during one causes another). */
  poke(): void {
    if (!this.stopped) this.passes.poke();
  }

  /** Resolves after the next pass that found nothing more to do (for tests and tools). */
  idle(): Promise<void> {
    return this.passes.idle();
  }

  private async pass(): Promise<PassOutcome> {
    const started = process.hrtime.bigint();
    try {
      await this.reconcile();
      this.metrics.lastSuccess = this.now();
      return 'done';
    } catch (error) {
      if (error instanceof FencedError) {
        this.log({ level: 'warn', msg: 'pass stopped: no longer the leader' });
        return 'stop';
      }
      this.metrics.reconcileErrors++;
      this.log({ level: 'error', msg: 'reconcile failed', error: String(error) });
      return 'retry';
    } finally {
      this.metrics.observeReconcile(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.wake);
    clearInterval(this.resync);
    this.unsubscribe?.();
    await this.passes.stop();
  }

  /** One pass over every active sweep of this backend. */
  async reconcile(): Promise<void> {
    const runs = new Map<string, RunStatus>();
    for (const run of this.backend.runs()) {
      runs.set(`${run.trialId}/${run.attempt}`, run);
      this.recentlyCreated.delete(run.name);
    }
    const wanted = new Set<string>();
    /** Trials with an attempt out, by id (to say why an orphan run is deleted). */
    const inFlight = new Map<string, { key: string; attempts: number }>();
    const sweeps = await this.store.activeSweeps(this.backend.name);
    let activeRuns = 0;
    // One timer for the whole pass, at the earliest backoff end of any sweep (the resync would, later).
    let wakeAt = Number.POSITIVE_INFINITY;
    const mayFinish: ActiveSweep[] = [];
    for (const sweep of sweeps) {
      const result = await this.reconcileSweep(sweep, runs, wanted, inFlight);
      activeRuns += result.inFlight;
      wakeAt = Math.min(wakeAt, result.backoffEnd);
      if (result.mayFinish) mayFinish.push(sweep);
    }
    this.wakeAt(wakeAt);
    // One count over all active sweeps; sweeps no longer active drop out of the metrics.
    const counts = await this.store.statusCountsBySweep(sweeps.map((sweep) => sweep.id));
    this.metrics.trialCounts = new Map(sweeps.map((sweep) => [sweep.name, counts.get(sweep.id)!]));
    for (const sweep of mayFinish) await this.finishIfDone(sweep, counts.get(sweep.id)!);
    // Runs whose trial no longer wants them (cancelled, superseded, deleted sweep) are removed.
    const orphans = this.backend.runs().filter((run) => isActive(run) && !wanted.has(run.name));
    const activeSweeps = new Map(sweeps.map((sweep) => [sweep.id, sweep.name]));
    const now = this.now();
    for (const name of this.finishing.keys())
      if (!orphans.some((run) => run.name === name)) this.finishing.delete(name);
    for (const run of orphans) {
      const current = inFlight.get(run.trialId);
      // A run whose trial was decided (its worker reported the outcome) in a sweep still going is
      // finishing on its own: its pod exits and the Job's TTL collects it. Deleting it would race
      // the worker's exit; only one still active after the heartbeat timeout is deleted.
      if (activeSweeps.has(run.sweepId) && !current) {
        const since = this.finishing.get(run.name) ?? now;
        this.finishing.set(run.name, since);
        if (now - since <= this.options.heartbeatTimeoutMs) continue;
      }
      this.decided({
        decision: 'delete',
        sweep: activeSweeps.get(run.sweepId) ?? run.sweepId,
        trial: current?.key ?? run.trialId,
        attempt: run.attempt,
        run: run.name,
        reason: !activeSweeps.has(run.sweepId)
          ? 'its sweep is no longer active (finished, cancelled or deleted)'
          : current
            ? `attempt ${run.attempt} was superseded by attempt ${current.attempts}`
            : `its trial was decided and the run is still active after ${Math.round(this.options.heartbeatTimeoutMs / 1000)} s`,
      });
      await this.cancel(run.name);
    }
    this.metrics.activeRuns = activeRuns;
  }

  /** One sweep's part of a pass: read its snapshot once, decide purely (decide.ts), act, then start. */
  private async reconcileSweep(
    sweep: ActiveSweep,
    runs: Map<string, RunStatus>,
    wanted: Set<string>,
    inFlightTrials: Map<string, { key: string; attempts: number }>,
  ): Promise<SweepPass> {
    const now = this.now();
    const snapshot = await this.store.sweepSnapshot(sweep.id);
    for (const trial of snapshot.inFlight) inFlightTrials.set(trial.id, trial);
    const decisions = decideSweep(snapshot, {
      runs,
      policy: { retries: sweep.retries, heartbeatTimeoutMs: this.options.heartbeatTimeoutMs },
      now,
      runName: (key, attempt) => runName(sweep.name, key, attempt),
      recentlyCreated: (name) => {
        const created = this.recentlyCreated.get(name);
        return created !== undefined && now - created <= CREATE_GRACE_MS;
      },
    });
    for (const name of decisions.wanted) wanted.add(name);
    let inFlight = decisions.inFlight;
    for (const { key, attempt, decision } of decisions.changed) {
      const entry = { sweep: sweep.name, trial: key, attempt, run: runName(sweep.name, key, attempt) };
      if (decision.kind === 'complete') {
        this.metrics.trialsCompleted++;
        this.decided({ ...entry, decision: 'complete', reason: 'its run succeeded' });
        continue;
      }
      if (decision.kind === 'retry') this.metrics.retries++;
      else this.metrics.trialsFailed++;
      this.decided({ ...entry, decision: decision.kind, reason: decision.error });
      if (decision.cancel)
        this.decided({ ...entry, decision: 'delete', reason: `${decision.kind}: ${decision.error}` });
    }
    // Decisions are written in one statement per pass, not one transaction per trial.
    await pool(decisions.cancels, this.options.createConcurrency, (name) => this.cancel(name));
    this.fence();
    await this.store.markTrials(decisions.marks);
    // Attempts recorded whose run never appeared (a crash between the two): create them, idempotently.
    if (decisions.missing.length > 0) {
      const rows = await this.store.launchRows(decisions.missing);
      await pool(rows, this.options.createConcurrency, (trial) =>
        this.createRun(sweep, trial, trial.attempts, 'its attempt was recorded but the run is missing'),
      );
    }

    const limit = sweep.maxParallel ?? this.backend.defaultParallelism;
    const slots = Math.max(0, limit - inFlight);
    let backoffEnd = Number.POSITIVE_INFINITY;
    if (slots > 0) {
      const start = await this.startReady(sweep, now, slots, limit, inFlight, wanted);
      inFlight += start.started;
      backoffEnd = start.backoffEnd;
    }
    return {
      inFlight,
      backoffEnd,
      mayFinish: inFlight === 0 && (decisions.marks.length > 0 || slots > 0),
    };
  }

  /**
   * Starts the sweep's ready trials in the `slots` free places (of `limit`, `inFlight` taken). Returns
   * how many started and, when places are left, when the earliest backoff of a waiting retry ends.
   */
  private async startReady(
    sweep: ActiveSweep,
    now: number,
    slots: number,
    limit: number,
    inFlight: number,
    wanted: Set<string>,
  ): Promise<{ started: number; backoffEnd: number }> {
    const take = Number.isFinite(slots) ? slots : 1000;
    const { retryBaseMs, retryMaxMs } = this.options;
    const backoff = backoffCutoffs(now, retryBaseMs, retryMaxMs);
    const ready = await this.store.readyTrials(sweep.id, backoff, take + 1);
    // Record the attempts first (one statement), then create their runs: a crash in between leaves
    // queued attempts without runs, which the next pass creates under the same names.
    const byId = new Map(ready.slice(0, take).map((t) => [t.id, t]));
    this.fence();
    const started = await this.store.startAttempts(
      [...byId.values()].map((t) => ({
        trialId: t.id,
        attempts: t.attempts,
        jobName: runName(sweep.name, t.key, t.attempts + 1),
      })),
    );
    for (const { trialId, number } of started)
      wanted.add(runName(sweep.name, byId.get(trialId)!.key, number));
    await pool(started, this.options.createConcurrency, ({ trialId, number }) =>
      this.createRun(sweep, byId.get(trialId)!, number, number === 1 ? 'first attempt' : 'retry'),
    );
    if (started.length > 0 && sweep.status === 'pending') {
      this.fence();
      await this.store.setSweepStatus(sweep.id, 'running');
    }
    let backoffEnd = Number.POSITIVE_INFINITY;
    // Another pass only if this one left trials ready and places free: the `take` cap, or starts
    // refused (a trial changed meanwhile). Filling the last place needs none.
    if (ready.length > started.length && inFlight + started.length < limit) this.passes.again();
    else if (ready.length < take) {
      // Places left: the pass wakes up when the first backoff ends.
      for (const t of await this.store.backingOff(sweep.id, backoff))
        backoffEnd = Math.min(
          backoffEnd,
          t.updatedAt.getTime() + retryDelayMs(t.attempts, retryBaseMs, retryMaxMs),
        );
    }
    return { started: started.length, backoffEnd };
  }

  /** Replaces the wake-up timer with one at `time` (none when it is infinite: nothing backs off). */
  private wakeAt(time: number): void {
    clearTimeout(this.wake);
    this.wake = undefined;
    if (!Number.isFinite(time)) return;
    this.wake = setTimeout(() => this.poke(), Math.max(0, time - this.now()));
    this.wake.unref();
  }

  /** Throws {@link FencedError} unless this controller may write now. */
  private fence(): void {
    if (!this.mayAct()) throw new FencedError();
  }

  private decided(entry: DecisionEntry): void {
    this.log({ level: 'info', ...entry });
  }

  private async cancel(name: string): Promise<void> {
    this.fence();
    await this.backend.cancel(name);
    this.metrics.runsCancelled++;
  }

  private async createRun(
    sweep: ActiveSweep,
    trial: LaunchTrial,
    attempt: number,
    reason: string,
  ): Promise<void> {
    const request: RunRequest = {
      sweepId: sweep.id,
      sweepName: sweep.name,
      trialId: trial.id,
      trialKey: trial.key,
      attempt,
      spec: trial.params,
      dependsOnTrialId: trial.dependsOnId,
      resources: sweep.spec.resources ?? { gpu: 1 },
    };
    const run = runName(sweep.name, trial.key, attempt);
    this.fence();
    const result = await this.backend.create(request);
    this.recentlyCreated.set(run, this.now());
    if (result === 'created') this.metrics.runsCreated++;
    else this.metrics.runsExisting++;
    this.decided({ decision: 'create', sweep: sweep.name, trial: trial.key, attempt, run, reason, result });
  }

  /** A sweep with nothing pending or in flight is finished: completed, or failed if any trial failed. */
  private async finishIfDone(sweep: ActiveSweep, counts: StatusCounts): Promise<void> {
    if (counts.pending + counts.queued + counts.running > 0) return;
    if ((await this.store.undecidedFailures(sweep.id)) > 0) return;
    const status = counts.failed > 0 ? 'failed' : 'completed';
    this.fence();
    await this.store.setSweepStatus(sweep.id, status);
    this.log({ level: 'info', msg: `sweep ${status}`, sweep: sweep.name, counts });
  }
}

/** What one sweep's part of a pass found. */
interface SweepPass {
  /** Trials with an attempt out. */
  inFlight: number;
  /** When the earliest backoff of a trial waiting for a free place ends (ms since the epoch), else ∞. */
  backoffEnd: number;
  /** Nothing is in flight after a pass that changed or could start something: the sweep may be done. */
  mayFinish: boolean;
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
