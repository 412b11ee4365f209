// Health and Prometheus metrics of the controller, served over HTTP (`/healthz`, `/readyz`, `/metrics`).
// The controller keeps plain tallies (fields it increments, tests read); each controller's own
// prom-client Registry reads them when scraped, next to a reconcile-duration histogram and the
// process metrics prom-client collects by default. Under leader election `/readyz` is the lead: only
// the replica that acts is ready.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type HealthServer, serveHealth } from '../../common/health-server.ts';
import type { StatusCounts } from '../store/store.ts';

export class ControllerMetrics {
  readonly registry = new Registry();
  /** The backend's view is synced (the controller could act). */
  ready = false;
  /** Whether this replica leads; null without leader election (it is then the only one). */
  leader: boolean | null = null;
  /** Times this replica gained or lost the lead. */
  leaderChanges = 0;
  /** The lease's count of holder changes, as this replica last read it. */
  leaseTransitions = 0;
  /** Time (ms) of the last reconcile pass that succeeded. */
  lastSuccess = 0;
  reconciles = 0;
  reconcileSeconds = 0;
  reconcileErrors = 0;
  runsCreated = 0;
  runsExisting = 0;
  runsCancelled = 0;
  retries = 0;
  trialsCompleted = 0;
  trialsFailed = 0;
  activeRuns = 0;
  /** Trial counts of the sweeps active in the last pass, by sweep name. */
  trialCounts: ReadonlyMap<string, StatusCounts> = new Map();
  private readonly reconcileDuration: Histogram;

  constructor() {
    const registers = [this.registry];
    const tally = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          // The tally only grows, so setting the counter to it keeps the counter monotonic.
          this.reset();
          this.inc(read());
        },
      });
    tally('esweep_controller_reconciles_total', 'Reconcile passes.', () => this.reconciles);
    tally(
      'esweep_controller_reconcile_seconds_total',
      'Time spent in reconcile passes.',
      () => this.reconcileSeconds,
    );
    tally(
      'esweep_controller_reconcile_errors_total',
      'Reconcile passes that failed.',
      () => this.reconcileErrors,
    );
    tally('esweep_controller_runs_created_total', 'Runs (Jobs) created.', () => this.runsCreated);
    tally(
      'esweep_controller_runs_existing_total',
      'Creates that found the run already there.',
      () => this.runsExisting,
    );
    tally('esweep_controller_runs_cancelled_total', 'Runs deleted.', () => this.runsCancelled);
    tally('esweep_controller_retries_total', 'Failed attempts sent back for another.', () => this.retries);
    tally('esweep_controller_trials_completed_total', 'Trials completed.', () => this.trialsCompleted);
    tally('esweep_controller_trials_failed_total', 'Trials failed for good.', () => this.trialsFailed);
    tally(
      'esweep_leader_changes_total',
      'Times this replica gained or lost the lead.',
      () => this.leaderChanges,
    );
    const metrics = this;
    new Gauge({
      name: 'esweep_leader',
      help: 'Whether this replica leads (1) or waits as a candidate (0).',
      registers,
      collect() {
        this.set(metrics.acting() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'esweep_lease_transitions',
      help: "The lease's count of holder changes (leaseTransitions), as last read.",
      registers,
      collect() {
        this.set(metrics.leaseTransitions);
      },
    });
    new Gauge({
      name: 'esweep_controller_active_runs',
      help: 'Runs in flight.',
      registers,
      collect() {
        this.set(metrics.activeRuns);
      },
    });
    new Gauge({
      name: 'esweep_sweep_trials',
      help: 'Trials per sweep and status (last pass).',
      labelNames: ['sweep', 'status'],
      registers,
      collect() {
        // Sweeps no longer active drop out instead of keeping their last counts.
        this.reset();
        for (const [sweep, counts] of metrics.trialCounts) {
          for (const [status, count] of Object.entries(counts)) this.set({ sweep, status }, count);
        }
      },
    });
    this.reconcileDuration = new Histogram({
      name: 'esweep_controller_reconcile_duration_seconds',
      help: 'Duration of reconcile passes.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
  }

  observeReconcile(seconds: number): void {
    this.reconciles++;
    this.reconcileSeconds += seconds;
    this.reconcileDuration.observe(seconds);
  }

  /** Whether this replica acts: synced and, under leader election, leading. */
  acting(): boolean {
    return this.ready && this.leader !== false;
  }

  /** Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * `/readyz`: this replica acts (synced, and the leader under leader election). `/healthz`: unless a
 * replica that acts has had no successful pass for `staleMs` (a waiting candidate is healthy).
 */
export function serveMetrics(
  metrics: ControllerMetrics,
  port: number,
  staleMs = 60_000,
  host = '0.0.0.0',
): Promise<HealthServer> {
  return serveHealth(
    {
      healthy: () => !metrics.acting() || Date.now() - metrics.lastSuccess < staleMs,
      ready: () => metrics.acting(),
      metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.render() }),
    },
    port,
    host,
  );
}
