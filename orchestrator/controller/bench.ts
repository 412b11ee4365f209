// bench:controller — the paper's scale (≈7,000 trials) against the fake API server with pods that
// complete at once: expansion + persist time, Jobs created per second, controller CPU-ms per trial
// and peak RSS. Baseline in the same run: the bare client creating Jobs with no controller or database.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BatchV1Api } from '@kubernetes/client-node';
import { createTestDatabase } from '../db/test-support.ts';
import { KubernetesBackend, kubeConfigFor } from '../scheduler/kubernetes/backend.ts';
import { parseKubernetesConfig } from '../scheduler/kubernetes/config.ts';
import { jobManifest } from '../scheduler/kubernetes/manifest.ts';
import { expandSweep } from '../sweep/expand.ts';
import { submitPlan } from '../sweep/records.ts';
import { parseSweepYaml } from '../sweep/spec.ts';
import { Controller } from './controller.ts';

const SWEEP = `
name: bench-paper-scale
architectures: [lenet300100, lenet5, vgg16, vgg19, resnet18]
pruners: [random/erk, random/igq, random/uniform, magnitude/global, magnitude/igq, lamp, snip, synflow]
types: [direct, effective]
compressions: {from: 10, to: 10000, points: 29}
seeds: 3
budget: {epochs: 1}
maxParallel: 500
retries: 2
`;
const BASELINE_JOBS = 1000;
const json = process.argv.includes('--json');

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

const fakeMain = fileURLToPath(new URL('../../test/fake-kube/main.ts', import.meta.url));
const fake = spawn(process.execPath, ['--import', 'tsx', fakeMain, '--instant'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const [url] = (await once(createInterface(fake.stdout!), 'line')) as [string];
const db = await createTestDatabase('bench_controller');
try {
  const config = parseKubernetesConfig({
    server: url,
    skipTLSVerify: true,
    namespace: 'bench',
    image: 'esweep-worker:bench',
  });

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
            document: trial.document,
            dependsOnTrialId: null,
            resources: { gpu: 1 },
          },
          { ...config, namespace: 'baseline', labels: { 'esweep.io/baseline': 'yes' } },
        );
        await batch.createNamespacedJob({ namespace: 'baseline', body });
      }
    }),
  );
  const baseline = {
    jobs: BASELINE_JOBS,
    jobsPerSecond: BASELINE_JOBS / ((performance.now() - baseStart) / 1000),
    cpuMsPerJob: cpuMs(baseCpu) / BASELINE_JOBS,
  };

  // Expansion + persist.
  const persistStart = performance.now();
  const plan = expandSweep(parseSweepYaml(SWEEP));
  const submitted = await submitPlan(db.repos, plan, 'kubernetes');
  const persistSeconds = (performance.now() - persistStart) / 1000;

  // The controller, start to finish.
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const backend = new KubernetesBackend(config);
  const controller = new Controller(db.repos, backend, { debounceMs: 20, resyncMs: 1000 });
  const cpu = process.cpuUsage();
  const start = performance.now();
  await controller.start();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sweep = await db.repos.findSweep(submitted.sweep.id);
    if (sweep?.status === 'completed' || sweep?.status === 'failed') break;
  }
  const seconds = (performance.now() - start) / 1000;
  const controllerCpuMs = cpuMs(cpu);
  await controller.stop();
  await backend.close();
  clearInterval(sampler);
  const counts = await db.repos.statusCounts(submitted.sweep.id);
  const result = {
    trials: plan.trials.length,
    persistSeconds,
    seconds,
    jobsCreated: controller.metrics.runsCreated,
    jobsPerSecond: controller.metrics.runsCreated / seconds,
    controllerCpuMsPerTrial: controllerCpuMs / plan.trials.length,
    peakRssMB: Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    completed: counts.completed,
    baseline,
    targets: { persistSeconds: 10, controllerCpuMsPerTrial: 5, peakRssMB: 300 },
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number, d = 1) => n.toFixed(d);
    process.stdout.write(
      [
        `trials                      ${result.trials} (${result.completed} completed)`,
        `expansion + persist         ${f(result.persistSeconds, 2)} s   (target ≤ 10 s)`,
        `controller wall time        ${f(result.seconds)} s`,
        `Jobs created per second     ${f(result.jobsPerSecond)}   (bare client baseline: ${f(baseline.jobsPerSecond)})`,
        `controller CPU per trial    ${f(result.controllerCpuMsPerTrial, 2)} ms   (target ≤ 5; bare client per Job: ${f(baseline.cpuMsPerJob, 2)} ms)`,
        `peak RSS                    ${f(result.peakRssMB)} MB   (target ≤ 300 MB)`,
        '',
      ].join('\n'),
    );
  }
} finally {
  fake.kill('SIGTERM');
  await db.dispose();
}
