import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../../common/errors.ts';
import type { RunRequest } from '../backend.ts';
import { parseKubernetesConfig } from './config.ts';
import { jobManifest, plainManifest } from './manifest.ts';

const request: RunRequest = {
  sweepId: 'cs1',
  sweepName: 'Paper_Sweep.v2',
  trialId: 'ct9',
  trialKey: '0123456789abcdef',
  attempt: 3,
  spec: {
    arch: 'vgg16',
    dataset: 'cifar10',
    pruner: 'lamp',
    type: 'effective',
    compression: 100,
    seed: 1,
  },
  dependsOnTrialId: 'ct1',
  resources: { gpu: 2, cpu: '4', memory: '16Gi' },
};

describe('Job manifests', () => {
  test('carry the trial, the scheduling settings and secrets only by reference', () => {
    const config = parseKubernetesConfig({
      image: 'registry.example/esweep-worker:1',
      namespace: 'research',
      imagePullSecrets: ['regcred'],
      serviceAccountName: 'esweep-worker',
      nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' },
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      queueName: 'gpu-queue',
      env: { NATS_URL: 'nats://nats:4222' },
      secretEnv: [{ name: 'DATABASE_URL', secret: 'esweep-db', key: 'url' }],
      envFrom: [{ secret: 'esweep-extra' }],
      dataVolume: { claimName: 'datasets' },
      activeDeadlineSeconds: 7200,
      ttlSecondsAfterFinished: 600,
    });
    const job = plainManifest(jobManifest(request, config));
    const name = job.metadata!.name!;
    assert.match(name, /^paper-sweep-v2-[0-9a-f]{6}-0123456789abcdef-3$/);
    assert.ok(name.length <= 57, 'room for the pod suffix within 63');
    assert.deepEqual(plainManifest(jobManifest(request, config)), job, 'deterministic');
    assert.equal(job.metadata!.namespace, 'research');
    assert.equal(job.metadata!.labels!['esweep.io/sweep'], 'Paper_Sweep.v2');
    assert.equal(job.metadata!.labels!['esweep.io/trial'], '0123456789abcdef');
    assert.equal(job.metadata!.labels!['esweep.io/trial-id'], 'ct9');
    assert.equal(job.metadata!.labels!['kueue.x-k8s.io/queue-name'], 'gpu-queue');
    assert.equal(job.spec!.suspend, true, 'Kueue admits a suspended Job');
    assert.equal(job.spec!.backoffLimit, 0);
    assert.equal(job.spec!.activeDeadlineSeconds, 7200);
    assert.equal(job.spec!.ttlSecondsAfterFinished, 600);
    assert.deepEqual(job.spec!.podFailurePolicy!.rules, [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'worker', operator: 'In', values: [2] } },
    ]);
    const pod = job.spec!.template.spec!;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.serviceAccountName, 'esweep-worker');
    assert.deepEqual(pod.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(pod.nodeSelector, { 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    assert.equal(pod.tolerations![0].key, 'nvidia.com/gpu');
    const container = pod.containers[0];
    assert.equal(container.image, 'registry.example/esweep-worker:1');
    assert.deepEqual(container.resources, {
      limits: { 'nvidia.com/gpu': '2', memory: '16Gi', 'ephemeral-storage': '2Gi' },
      requests: { cpu: '4', memory: '16Gi' },
    });
    assert.deepEqual(container.command!.slice(3), ['esweep-trial', 'esweep', 'train']);
    const env = Object.fromEntries(container.env!.map((e) => [e.name, e]));
    assert.deepEqual(JSON.parse(env.ESWEEP_TRIAL.value!), request.spec);
    assert.equal(env.ESWEEP_DENSE_TRIAL_ID.value, 'ct1');
    assert.equal(env.ESWEEP_ATTEMPT.value, '3');
    assert.equal(env.ESWEEP_DATA_DIR.value, '/data');
    assert.deepEqual(env.DATABASE_URL, {
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'esweep-db', key: 'url' } },
    });
    assert.deepEqual(container.envFrom, [{ secretRef: { name: 'esweep-extra' } }]);
    assert.deepEqual(pod.volumes, [
      { name: 'scratch', emptyDir: { sizeLimit: '2Gi' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'datasets', readOnly: true } },
    ]);
    // Unprivileged, read-only root filesystem; the trial file and scratch space live on /tmp.
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
    assert.deepEqual(
      container.volumeMounts?.map((m) => m.mountPath),
      ['/tmp', '/data'],
    );
  });

  test('a minimal config gives no GPU for gpu 0 and no Kueue label; bad settings are input errors', () => {
    const config = parseKubernetesConfig({ image: 'w:1' });
    const job = plainManifest(jobManifest({ ...request, resources: { gpu: 0 } }, config));
    // A sweep without resources still gets requests and limits, and /tmp a size limit.
    assert.deepEqual(job.spec!.template.spec!.containers[0].resources, {
      limits: { memory: '8Gi', 'ephemeral-storage': '2Gi' },
      requests: { cpu: '2', memory: '8Gi' },
    });
    const scratch = job.spec!.template.spec!.volumes!.find((v) => v.name === 'scratch');
    assert.deepEqual(scratch?.emptyDir, { sizeLimit: '2Gi' });
    assert.equal(job.metadata!.labels!['kueue.x-k8s.io/queue-name'], undefined);
    assert.equal(job.spec!.suspend, undefined);
    assert.equal(job.metadata!.namespace, 'default');
    const bad = (document: unknown, pattern: RegExp) =>
      assert.throws(
        () => parseKubernetesConfig(document, 'cluster.yaml'),
        (e: unknown) => e instanceof InputError && pattern.test(e.message),
      );
    bad(
      { image: 'w', env: { DB_PASSWORD: 'hunter2' } },
      /^cluster\.yaml: env\.DB_PASSWORD: looks like a credential/,
    );
    bad({}, /^cluster\.yaml: image: is required/);
    bad({ image: 'w', namespace: 'Bad_NS' }, /namespace: must be a DNS label, got "Bad_NS"/);
    bad(
      { image: 'w', tolerations: [{ effect: 'Sometimes' }] },
      /^cluster\.yaml: tolerations\[0\]\.effect: must be one of NoSchedule, PreferNoSchedule, NoExecute; got "Sometimes"$/,
    );
    bad({ image: 'w', replicas: 3 }, /unknown field\(s\) replicas/);
  });
});
