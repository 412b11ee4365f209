// Health and Prometheus metrics of the controller, served over HTTP (`/healthz`, `/readyz`, `/metrics`).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StatusCounts } from '../store/store.ts';

export class ControllerMetrics {
  ready = false;
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

  observeReconcile(seconds: number): void {
    this.reconciles++;
    this.reconcileSeconds += seconds;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
    };
    metric('esweep_controller_reconciles_total', 'counter', 'Reconcile passes.', [['', this.reconciles]]);
    metric('esweep_controller_reconcile_seconds_total', 'counter', 'Time spent in reconcile passes.', [
      ['', this.reconcileSeconds],
    ]);
    metric('esweep_controller_reconcile_errors_total', 'counter', 'Reconcile passes that failed.', [
      ['', this.reconcileErrors],
    ]);
    metric('esweep_controller_runs_created_total', 'counter', 'Runs (Jobs) created.', [
      ['', this.runsCreated],
    ]);
    metric('esweep_controller_runs_existing_total', 'counter', 'Creates that found the run already there.', [
      ['', this.runsExisting],
    ]);
    metric('esweep_controller_runs_cancelled_total', 'counter', 'Runs deleted.', [['', this.runsCancelled]]);
    metric('esweep_controller_retries_total', 'counter', 'Failed attempts sent back for another.', [
      ['', this.retries],
    ]);
    metric('esweep_controller_trials_completed_total', 'counter', 'Trials completed.', [
      ['', this.trialsCompleted],
    ]);
    metric('esweep_controller_trials_failed_total', 'counter', 'Trials failed for good.', [
      ['', this.trialsFailed],
    ]);
    metric('esweep_controller_active_runs', 'gauge', 'Runs in flight.', [['', this.activeRuns]]);
    const samples: [string, number][] = [];
    for (const [sweep, counts] of this.trialCounts) {
      for (const [status, count] of Object.entries(counts)) {
        samples.push([`{sweep=${JSON.stringify(sweep)},status="${status}"}`, count]);
      }
    }
    metric('esweep_sweep_trials', 'gauge', 'Trials per sweep and status (last pass).', samples);
    return `${lines.join('\n')}\n`;
  }
}

/** `healthy` unless the last successful pass is older than `staleMs`. */
export function serveMetrics(
  metrics: ControllerMetrics,
  port: number,
  staleMs = 60_000,
  host = '0.0.0.0',
): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metrics.render());
    } else if (path === '/healthz' || path === '/readyz') {
      const ok =
        path === '/readyz' ? metrics.ready : Date.now() - metrics.lastSuccess < staleMs || !metrics.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve(Object.assign(server, { port: (server.address() as AddressInfo).port })),
    );
  });
}
