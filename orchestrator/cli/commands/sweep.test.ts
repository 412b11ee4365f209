import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import { createTestDatabase } from '../../store/test-support.ts';
import { runCli } from '../run-cli.ts';

/** A sweep as docs/sweep-file.md describes it: every field, a log-spaced compression range, magnitude and LAMP. */
const PAPER_LIKE = `
name: connectivity-paper
architectures: [lenet5, vgg16]
pruners: [random/erk, random/uniform_plus, magnitude/igq, lamp]
types: [direct, effective]
compressions: {from: 10, to: 10000, points: 4}
seeds: [0, 1, 2]
budget: {epochs: 2}
resources: {gpu: 1, cpu: 4, memory: 24Gi}
maxParallel: 40
retries: 3
dataset: {vgg16: cifar100}
`;

const CLUSTER = `
namespace: pruning
image: ghcr.io/example/esweep-worker:1.2.3
imagePullSecrets: [ghcr]
serviceAccountName: esweep-worker
nodeSelector: {cloud.google.com/gke-accelerator: nvidia-tesla-a100}
tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
queueName: research
env: {NATS_URL: "nats://nats.esweep:4222"}
secretEnv: [{name: DATABASE_URL, secret: esweep-db, key: url}]
activeDeadlineSeconds: 43200
ttlSecondsAfterFinished: 900
`;

interface DryRunDocument {
  trials: {
    key: string;
    arch: string;
    dataset: string;
    pruner: string;
    seed: number;
    dependsOn: string | null;
  }[];
  jobs: V1Job[];
}

describe('esweep sweep submit', () => {
  let dir = '';
  const path = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-sweep-cli-'));
    await writeFile(path('paper.yaml'), PAPER_LIKE);
    await writeFile(path('cluster.yaml'), CLUSTER);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('--dry-run --json: the trials and one Job per trial, nothing written', async () => {
    const args = [
      'sweep',
      'submit',
      path('paper.yaml'),
      '--dry-run',
      '--json',
      '--cluster',
      path('cluster.yaml'),
    ];
    const first = await runCli(args, { ...process.env, DATABASE_URL: `pglite:${path('never')}` });
    assert.equal(first.code, 0, first.stderr);
    const doc = JSON.parse(first.stdout) as DryRunDocument;
    // 2 architectures × 3 seeds × (dense + 4 pruners × 2 types × 4 compressions).
    assert.equal(doc.trials.length, 2 * 3 * (1 + 4 * 2 * 4));
    assert.equal(doc.jobs.length, doc.trials.length);
    assert.equal(new Set(doc.trials.map((t) => t.key)).size, doc.trials.length);
    const again = JSON.parse((await runCli(args)).stdout) as DryRunDocument;
    assert.deepEqual(
      again.trials.map((t) => t.key),
      doc.trials.map((t) => t.key),
      'keys are stable',
    );
    assert.equal(existsSync(path('never')), false, 'a dry run opens no database');

    const byKey = new Map(doc.trials.map((t) => [t.key, t]));
    for (const trial of doc.trials) {
      if (trial.pruner === 'magnitude/igq' || trial.pruner === 'lamp') {
        const dense = byKey.get(trial.dependsOn!);
        assert.deepEqual([dense?.pruner, dense?.arch, dense?.seed], ['dense', trial.arch, trial.seed]);
      } else assert.equal(trial.dependsOn, null);
    }
    assert.ok(doc.trials.filter((t) => t.arch === 'vgg16').every((t) => t.dataset === 'cifar100'));

    const names = new Set<string>();
    doc.jobs.forEach((job, k) => {
      const trial = doc.trials[k];
      const labels = job.metadata!.labels!;
      assert.equal(labels['esweep.io/trial'], trial.key);
      assert.equal(labels['esweep.io/sweep'], 'connectivity-paper');
      assert.equal(labels['kueue.x-k8s.io/queue-name'], 'research');
      assert.match(job.metadata!.name!, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      assert.ok(job.metadata!.name!.length <= 57);
      names.add(job.metadata!.name!);
      assert.equal(job.metadata!.namespace, 'pruning');
      assert.equal(job.spec!.activeDeadlineSeconds, 43200);
      assert.equal(job.spec!.ttlSecondsAfterFinished, 900);
      const rules = job.spec!.podFailurePolicy!.rules;
      assert.deepEqual(
        rules.map((r) => r.action),
        ['Ignore', 'FailJob'],
      );
      assert.equal(rules[0].onPodConditions![0].type, 'DisruptionTarget');
      assert.deepEqual(rules[1].onExitCodes!.values, [2]);
      const pod = job.spec!.template.spec!;
      assert.equal(pod.restartPolicy, 'Never');
      assert.equal(pod.serviceAccountName, 'esweep-worker');
      assert.deepEqual(pod.imagePullSecrets, [{ name: 'ghcr' }]);
      assert.equal(pod.nodeSelector!['cloud.google.com/gke-accelerator'], 'nvidia-tesla-a100');
      assert.equal(pod.tolerations![0].key, 'nvidia.com/gpu');
      const container = pod.containers[0];
      assert.equal(container.image, 'ghcr.io/example/esweep-worker:1.2.3');
      assert.equal(container.resources!.limits!['nvidia.com/gpu'], '1');
      assert.equal(container.resources!.requests!.memory, '24Gi');
      const env = new Map(container.env!.map((e) => [e.name, e]));
      const { key: _key, dependsOn: _dependsOn, ...params } = trial as Record<string, unknown>;
      const document = JSON.parse(env.get('ESWEEP_TRIAL')!.value!);
      for (const field of ['arch', 'dataset', 'pruner', 'type', 'seed', 'budget']) {
        assert.deepEqual(document[field], params[field], field);
      }
      assert.deepEqual(env.get('DATABASE_URL')!.valueFrom, {
        secretKeyRef: { name: 'esweep-db', key: 'url' },
      });
      assert.ok(
        container.env!.every((e) => e.value === undefined || !/postgres|password/i.test(e.value)),
        'no inline credentials',
      );
    });
    assert.equal(names.size, doc.jobs.length, 'job names are unique');
  });

  test('bad sweeps exit 2 with one line naming the field and the value', async () => {
    await writeFile(
      path('mlp.yaml'),
      'name: mlp\narchitectures: [lenet300100]\npruners: [magnitude/uniform_plus]\ncompressions: [10]\n',
    );
    const mlp = await runCli(['sweep', 'submit', path('mlp.yaml'), '--dry-run', '--json']);
    assert.equal(mlp.code, 2);
    assert.match(
      mlp.stderr,
      /^esweep: mlp\.yaml: pruners\[0\]: 'magnitude\/uniform_plus' .* 'lenet300100'\n$/,
    );

    await writeFile(
      path('huge.yaml'),
      'name: huge\narchitectures: [lenet5, vgg16, vgg19, resnet18]\npruners: [random/erk, random/igq, lamp]\ntypes: [direct, effective]\ncompressions: {from: 2, to: 10000, points: 1000}\nseeds: 3\n',
    );
    const huge = await runCli([
      'sweep',
      'submit',
      path('huge.yaml'),
      '--dry-run',
      '--json',
      '--backend',
      'local',
    ]);
    assert.equal(huge.code, 2);
    assert.match(
      huge.stderr,
      /^esweep: huge\.yaml: the grid expands to 72,012 trials, above the limit of 20,000; pass --force/,
    );
    const bad = await runCli(['sweep', 'submit', path('paper.yaml'), '--dry-run', '--backend', 'slurm']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^esweep: --backend: unknown backend 'slurm'/);
  });

  test('submit records the sweep in the database; status counts its trials', async () => {
    const database = await createTestDatabase('sweep_cli');
    try {
      const submit = await runCli([
        'sweep',
        'submit',
        path('paper.yaml'),
        '--database',
        database.url,
        '--json',
      ]);
      assert.equal(submit.code, 0, submit.stderr);
      const result = JSON.parse(submit.stdout);
      assert.deepEqual([result.created, result.addedTrials, result.totalTrials], [true, 198, 198]);
      assert.equal(result.sweep.backend, 'kubernetes');
      const status = await runCli([
        'sweep',
        'status',
        'connectivity-paper',
        '--database',
        database.url,
        '--json',
      ]);
      assert.equal(JSON.parse(status.stdout).counts.pending, 198);
    } finally {
      await database.dispose();
    }
  });
});
