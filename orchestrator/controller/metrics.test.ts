import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ControllerMetrics, serveMetrics } from './metrics.ts';

const counts = (pending: number, running: number) => ({
  pending,
  queued: 0,
  running,
  failed: 0,
  cancelled: 0,
  completed: 0,
});

describe('controller metrics over HTTP', () => {
  const metrics = new ControllerMetrics();
  let server: Awaited<ReturnType<typeof serveMetrics>>;
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
  const scrape = async () => (await get('/metrics')).text();

  before(async () => {
    server = await serveMetrics(metrics, 0, 60_000, '127.0.0.1');
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('/metrics has the process metrics and the controller’s tallies, counters, gauges and histogram', async () => {
    metrics.runsCreated += 3;
    metrics.retries++;
    metrics.activeRuns = 2;
    metrics.observeReconcile(0.02);
    metrics.observeReconcile(3);
    metrics.trialCounts = new Map([['mnist "big"', counts(4, 1)]]);
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
    assert.match(text, /^# TYPE esweep_controller_runs_created_total counter$/m);
    assert.match(text, /^esweep_controller_runs_created_total 3$/m);
    assert.match(text, /^esweep_controller_retries_total 1$/m);
    assert.match(text, /^esweep_controller_reconcile_errors_total 0$/m);
    assert.match(text, /^esweep_controller_reconciles_total 2$/m);
    assert.match(text, /^esweep_controller_reconcile_seconds_total 3\.02$/m);
    assert.match(text, /^# TYPE esweep_controller_active_runs gauge$/m);
    assert.match(text, /^esweep_controller_active_runs 2$/m);
    assert.match(text, /^esweep_sweep_trials\{sweep="mnist \\"big\\"",status="pending"\} 4$/m);
    assert.match(text, /^esweep_sweep_trials\{sweep="mnist \\"big\\"",status="running"\} 1$/m);
    assert.match(text, /^# TYPE esweep_controller_reconcile_duration_seconds histogram$/m);
    assert.match(text, /^esweep_controller_reconcile_duration_seconds_bucket\{le="0\.025"\} 1$/m);
    assert.match(text, /^esweep_controller_reconcile_duration_seconds_bucket\{le="5"\} 2$/m);
    assert.match(text, /^esweep_controller_reconcile_duration_seconds_count 2$/m);
  });

  it('a sweep no longer active leaves /metrics; counters keep counting between scrapes', async () => {
    metrics.trialCounts = new Map([['other', counts(1, 0)]]);
    metrics.runsCreated++;
    const text = await scrape();
    assert.doesNotMatch(text, /big/);
    assert.match(text, /^esweep_sweep_trials\{sweep="other",status="pending"\} 1$/m);
    assert.match(text, /^esweep_controller_runs_created_total 4$/m);
  });

  it('/healthz is ok before the first pass and while passes succeed; /readyz once started', async () => {
    metrics.ready = false;
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 503);
    metrics.ready = true;
    metrics.lastSuccess = Date.now();
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 200);
    metrics.lastSuccess = Date.now() - 61_000;
    assert.equal((await get('/healthz')).status, 503);
    assert.equal((await get('/nothing')).status, 404);
  });

  it('under leader election: ready and esweep_leader 1 only while leading; a candidate is healthy', async () => {
    metrics.ready = true;
    metrics.leader = false;
    metrics.lastSuccess = 0;
    assert.equal((await get('/readyz')).status, 503);
    assert.equal((await get('/healthz')).status, 200, 'a waiting candidate makes no passes');
    assert.match(await scrape(), /^esweep_leader 0$/m);
    metrics.leader = true;
    metrics.leaderChanges = 1;
    metrics.leaseTransitions = 4;
    metrics.lastSuccess = Date.now();
    assert.equal((await get('/readyz')).status, 200);
    const text = await scrape();
    assert.match(text, /^esweep_leader 1$/m);
    assert.match(text, /^esweep_leader_changes_total 1$/m);
    assert.match(text, /^esweep_lease_transitions 4$/m);
    metrics.leader = null;
  });

  it('each controller has a registry of its own', async () => {
    const other = new ControllerMetrics();
    other.runsCreated = 7;
    assert.match(await other.render(), /^esweep_controller_runs_created_total 7$/m);
    assert.match(await scrape(), /^esweep_controller_runs_created_total 4$/m);
  });
});
