// bench:controller — the paper's scale (≈7,000 trials) against the fake API server with pods that
// complete at once. The controller is the real `esweep controller` command in its own process, run
// from the bundle with the environment of the orchestrator image, as that image runs it, so its CPU time and
// peak RSS are read from /proc for that process alone (not for this script, which also holds the test
// database client and the baseline). Prints expansion + persist seconds, Jobs created per second,
// controller CPU-ms per trial and peak RSS. Baseline in the same run: the bare client creating Jobs
// with no controller or database. Targets: expansion + persist ≤ 10 s, controller ≤ 5 CPU-ms per
// trial, peak RSS ≤ 300 MB. `--quick` (a smoke run): one seed and three compressions (~250 trials).
// `--faults SPEC` (test/fake-kube/faults.ts, e.g. `429=0.05,500=0.02,503=0.02,410=0.1,restart=30s`)
// makes the fake API server throttle, fail, expire watches and restart; the same targets hold, and one
// more: a re-list after 410 Gone (wall time, from the controller's own log) costs less than one full
// resync, i.e. one periodic reconcile pass over every active sweep (mean, from its metrics).

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BatchV1Api } from '@kubernetes/client-node';
import { z } from 'zod';
import { bundleCli } from '../orchestrator/cli/bundle.ts';
import { CONTROLLER_HEAP_MB, heapLimitOptions } from '../orchestrator/node-heap.ts';
import { PROJECT_ROOT } from '../orchestrator/project-root.ts';
import { kubeConfigFor } from '../orchestrator/scheduler/kubernetes/backend.ts';
import { parseKubernetesConfig } from '../orchestrator/scheduler/kubernetes/config.ts';
import { jobManifest } from '../orchestrator/scheduler/kubernetes/manifest.ts';
import { withRetries } from '../orchestrator/scheduler/kubernetes/retry.ts';
import { submitPlan } from '../orchestrator/store/plan-records.ts';
import { createTestDatabase } from '../orchestrator/store/test-support.ts';
import { expandSweep } from '../orchestrator/sweep/expand.ts';
import { parseSweepYaml } from '../orchestrator/sweep/spec.ts';
import { benchFlags } from './flags.ts';
import { finish, headline, verdict } from './verdict.ts';

const values = benchFlags({
  name: 'controller',
  about: `The real esweep controller (its own process, from the bundle) at the paper's scale (≈7,000 trials)
against the fake Kubernetes API server: expansion + persist seconds, Jobs/s, CPU-ms per trial, peak
RSS. Baseline: the bare client creating Jobs. Targets: expansion + persist ≤ 10 s, ≤ 5 CPU-ms per
trial, peak RSS ≤ 300 MB (with --faults also: a re-list after 410 Gone < one full resync).
Needs PostgreSQL (ESWEEP_TEST_DATABASE_URL).`,
  flags: {
    quick: {
      type: 'boolean',
      default: false,
      about: 'a smoke run: one seed, three compressions (~250 trials)',
    },
    faults: {
      type: 'string',
      value: 'SPEC',
      about:
        'fake API faults (test/fake-kube/faults.ts), e.g. 429=0.05,500=0.02,410=0.1,restart=30s; default none',
    },
    json: { type: 'boolean', default: false, about: 'one JSON line at the end' },
  },
});
const json = values.json;
const SWEEP = `
name: bench-paper-scale
architectures: [lenet300100, lenet5, vgg16, vgg19, resnet18]
pruners: [random/erk, random/igq, random/uniform, magnitude/global, magnitude/igq, lamp, snip, synflow]
types: [direct, effective]
compressions: {from: 10, to: 10000, points: ${values.quick ? 3 : 29}}
seeds: ${values.quick ? 1 : 3}
budget: {epochs: 1}
maxParallel: 500
retries: 2
`;
const BASELINE_JOBS = values.quick ? 100 : 1000;
const TARGETS = { persistSeconds: 10, controllerCpuMsPerTrial: 5, peakRssMB: 300 };
const bundleDir = join(PROJECT_ROOT, 'dist', `bench-${process.pid}`);
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (user + system, ms) of one process, from /proc/PID/stat fields 14 and 15. */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** A `/proc/PID/status` field in MB (VmRSS: now; VmHWM: the peak so far). */
function processMemoryMB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!line) throw new Error(`no ${field} for process ${pid}`);
  return Number(line[1]) / 1024;
}

/** The `ENV` settings (`ENV KEY=value …` lines) of one stage of a Dockerfile (`FROM … AS stage`). */
function imageEnvironment(dockerfile: string, stage: string): Record<string, string> {
  const text = readFileSync(join(PROJECT_ROOT, dockerfile), 'utf8');
  const body = text
    .split(/^(?=FROM\s)/m)
    .find((block) => /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(block)?.[1] === stage);
  if (body === undefined) throw new Error(`${dockerfile} has no stage '${stage}'`);
  const settings = [...body.matchAll(/^ENV\s+(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
  return Object.fromEntries(settings.map((setting) => envSetting(dockerfile, setting)));
}

/** `KEY=value` split at the first `=` (a value may hold more); quoted values are not understood here. */
function envSetting(dockerfile: string, setting: string): [string, string] {
  const at = setting.indexOf('=');
  if (at <= 0) throw new Error(`${dockerfile}: ENV '${setting}' is not KEY=value`);
  const value = setting.slice(at + 1);
  if (/["']/.test(value)) throw new Error(`${dockerfile}: ENV '${setting}' is quoted; write it unquoted`);
  return [setting.slice(0, at), value];
}

/** Starts a command and resolves with the first stdout line that passes `ready`. */
async function startProcess(
  args: string[],
  ready: (line: string) => boolean,
  env = process.env,
  onLine: (line: string) => void = () => {},
) {
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface(child.stdout!);
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${args.join(' ')} exited with ${code} before it was ready`);
  });
  const line = await Promise.race([
    (async () => {
      for await (const l of lines) if (ready(l)) return l;
      throw new Error(`${args.join(' ')} closed its output before it was ready`);
    })(),
    exited,
  ]);
  exited.catch(() => {});
  lines.on('line', onLine);
  return { child, line };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

const startedLine = z.object({ msg: z.literal('controller started'), metricsPort: z.number() });

const fake = await startProcess(
  [
    '--import',
    'tsx',
    'test/fake-kube/main.ts',
    '--instant',
    ...(values.faults ? ['--faults', values.faults] : []),
  ],
  () => true,
);
const url = fake.line;
const db = await createTestDatabase('bench_controller');
const dir = await mkdtemp(join(tmpdir(), 'esweep-bench-controller-'));
let controller: ChildProcess | undefined;
try {
  const [pg] = await db.prisma.$queryRaw<{ server_version: string }[]>`SHOW server_version`;
  const backend = `fake Kubernetes API (instant pods${values.faults ? `, faults ${values.faults}` : ''}) + PostgreSQL ${pg?.server_version.split(' ')[0] ?? '?'}`;
  const trialCount = expandSweep(parseSweepYaml(SWEEP)).trials.length;
  headline(
    'controller',
    backend,
    `a ${trialCount}-trial sweep through the bundled controller, against the bare client`,
  );
  const settings = { server: url, skipTLSVerify: true, namespace: 'bench', image: 'esweep-worker:bench' };
  const config = parseKubernetesConfig(settings);
  const clusterFile = join(dir, 'cluster.json');
  await writeFile(clusterFile, JSON.stringify(settings));

  // Baseline: the bare client creating Jobs of the same shape, sequentially in 16 lanes like the controller.
  const batch = kubeConfigFor({ ...config, namespace: 'baseline' }).makeApiClient(BatchV1Api);
  const plan0 = expandSweep(parseSweepYaml(SWEEP));
  const baseCpu = process.cpuUsage();
  const baseStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < BASELINE_JOBS) {
        const trial = plan0.trials[next++];
        const body = jobManifest(
          {
            sweepId: 'b',
            sweepName: 'baseline',
            trialId: trial.key,
            trialKey: trial.key,
            attempt: 1,
            spec: trial.spec,
            dependsOnTrialId: null,
            resources: { gpu: 1 },
          },
          { ...config, namespace: 'baseline', labels: { 'esweep.io/baseline': 'yes' } },
        );
        // With --faults the bare client needs the controller's retries too (429 waits, 5xx backoff).
        await withRetries('create job', () => batch.createNamespacedJob({ namespace: 'baseline', body }));
      }
    }),
  );
  const baseCpuUsage = process.cpuUsage(baseCpu);
  const baseline = {
    jobs: BASELINE_JOBS,
    jobsPerSecond: BASELINE_JOBS / ((performance.now() - baseStart) / 1000),
    cpuMsPerJob: (baseCpuUsage.user + baseCpuUsage.system) / 1000 / BASELINE_JOBS,
  };

  // The controller, started on an empty database; its start-up CPU is not counted per trial.
  const bin = await bundleCli(bundleDir);
  // What the controller logs about the faults: its re-lists (wall and CPU time) and its retries.
  const relist = z.object({
    msg: z.literal('jobs re-listed'),
    items: z.number(),
    pages: z.number(),
    tries: z.number(),
    slowestTryMs: z.number(),
    ms: z.number(),
    cpuMs: z.number(),
    readCpuMs: z.number(),
    retryWaitMs: z.number(),
  });
  const relists: z.output<typeof relist>[] = [];
  let apiRetries = 0;
  const lastLines: string[] = [];
  const started = await startProcess(
    // One replica and no election: this measures reconciling. Elections are tested by the HA e2e; a
    // lone leader starved by a saturated fake API server loses its lease and exits, which only a
    // restarting Deployment (not this script) would recover from.
    [
      bin,
      'controller',
      '--database',
      db.url,
      '--cluster',
      clusterFile,
      '--metrics-port',
      '0',
      '--no-leader-elect',
    ],
    (l) => startedLine.safeParse(JSON.parse(l)).success,
    {
      ...process.env,
      ...imageEnvironment('infra/Dockerfile', 'orchestrator'),
      NODE_OPTIONS: heapLimitOptions(CONTROLLER_HEAP_MB),
    },
    (l) => {
      lastLines.push(l);
      if (lastLines.length > 5) lastLines.shift();
      if (!l.startsWith('{')) return;
      const entry = JSON.parse(l) as { msg?: string };
      if (entry.msg === 'jobs re-listed') relists.push(relist.parse(entry));
      else if (entry.msg === 'API retry') apiRetries++;
    },
  );
  controller = started.child;
  const pid = controller.pid!;
  const { metricsPort } = startedLine.parse(JSON.parse(started.line));
  const idleRssMB = processMemoryMB(pid, 'VmRSS');
  const cpuAtStart = processCpuMs(pid);

  // Expansion + persist, then the controller works through the sweep.
  const start = performance.now();
  const plan = expandSweep(parseSweepYaml(SWEEP));
  const submitted = await submitPlan(db.store, plan, 'kubernetes');
  const persistSeconds = (performance.now() - start) / 1000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A controller that exits (e.g. it lost its lease) would leave this loop waiting for ever.
    if (controller.exitCode !== null)
      throw new Error(
        `the controller exited with ${controller.exitCode} before the sweep finished; its last lines:\n${lastLines.join('\n')}`,
      );
    const sweep = await db.store.findSweep(submitted.sweep.id);
    if (sweep?.status === 'completed' || sweep?.status === 'failed') break;
  }
  const seconds = (performance.now() - start) / 1000;
  const controllerCpuMs = processCpuMs(pid) - cpuAtStart;
  const peakRssMB = processMemoryMB(pid, 'VmHWM');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const metric = (name: string) =>
    Number(metrics.match(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm'))?.[1] ?? Number.NaN);
  const jobsCreated = metric('esweep_controller_runs_created_total');
  const passes = metric('esweep_controller_reconciles_total');
  const passMs = (metric('esweep_controller_reconcile_seconds_total') * 1000) / passes;
  await stop(controller);
  const counts = await db.store.statusCounts(submitted.sweep.id);
  const result = {
    trials: plan.trials.length,
    persistSeconds,
    seconds,
    jobsCreated,
    jobsPerSecond: jobsCreated / seconds,
    controllerCpuMsPerTrial: controllerCpuMs / plan.trials.length,
    startupCpuMs: cpuAtStart,
    idleRssMB,
    peakRssMB,
    completed: counts.completed,
    baseline,
    faults: values.faults ?? null,
    apiRetries,
    relists,
    meanPassMs: passMs,
    passes,
    controllerCpuMsPerPass: controllerCpuMs / passes,
  };
  const f = (n: number, d = 1) => n.toFixed(d);
  verdict({
    name: 'expansion + persist',
    figure: `${f(result.persistSeconds, 2)} s for ${result.trials} trials`,
    baseline: 'none (absolute target)',
    target: `≤ ${TARGETS.persistSeconds} s`,
    met: result.persistSeconds <= TARGETS.persistSeconds,
    backend,
  });
  verdict({
    name: 'controller CPU per trial',
    figure: `${f(result.controllerCpuMsPerTrial, 2)} ms (start-up ${f(cpuAtStart, 0)} ms not counted)`,
    baseline: `bare client ${f(baseline.cpuMsPerJob, 2)} ms per Job`,
    target: `≤ ${TARGETS.controllerCpuMsPerTrial} ms`,
    met: result.controllerCpuMsPerTrial <= TARGETS.controllerCpuMsPerTrial,
    backend,
  });
  verdict({
    name: 'controller peak RSS',
    figure: `${f(peakRssMB)} MB (idle after start-up ${f(idleRssMB)} MB)`,
    baseline: 'none (absolute target)',
    target: `≤ ${TARGETS.peakRssMB} MB`,
    met: peakRssMB <= TARGETS.peakRssMB,
    backend,
  });
  verdict({
    name: 'every trial completed',
    figure: `${result.completed} of ${result.trials} completed, ${jobsCreated} Jobs created`,
    baseline: `bare client ${f(baseline.jobsPerSecond)} Jobs/s; controller ${f(result.jobsPerSecond)} Jobs/s, submit to done ${f(result.seconds)} s`,
    target: 'all completed',
    met: result.completed === result.trials,
    backend,
  });
  if (values.faults) {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const relistMs = mean(relists.map((r) => r.ms));
    const meanOf = (key: 'cpuMs' | 'readCpuMs' | 'retryWaitMs' | 'pages') =>
      f(mean(relists.map((r) => r[key])));
    // Wall is the target. The CPU figures say what the wall is made of: a re-list's own reading
    // (readCpuMs) and the retries' waits are the controller's part; the rest is waiting on the API
    // server. Both CPU baselines are upper bounds (the process's CPU, other work included).
    verdict({
      name: 're-list after 410 Gone vs one full resync',
      figure:
        relists.length > 0
          ? `${relists.length} re-lists of ≤ ${Math.max(...relists.map((r) => r.items))} Jobs in ${meanOf('pages')} pages: mean ${f(relistMs)} ms wall (of which ${meanOf('retryWaitMs')} ms retry waits), ${meanOf('readCpuMs')} ms CPU reading pages, ${meanOf('cpuMs')} ms process CPU meanwhile; ${apiRetries} API retries`
          : `no re-list happened (${apiRetries} API retries)`,
      baseline: `one full resync (a reconcile pass over every active sweep): mean ${f(passMs)} ms wall over ${passes} passes; controller CPU per pass ≤ ${f(result.controllerCpuMsPerPass)} ms`,
      target: '< one full resync',
      met: relists.length > 0 && relistMs < passMs,
      backend,
    });
  }
  const summary = finish();
  if (json) process.stdout.write(`${JSON.stringify({ backend, ...result, targets: TARGETS, ...summary })}\n`);
} finally {
  if (controller) await stop(controller);
  await rm(bundleDir, { recursive: true, force: true });
  await stop(fake.child);
  await db.dispose();
  await rm(dir, { recursive: true, force: true });
}
