// Schema validation of built-ins: the fake refuses what kube-apiserver refuses (422 naming the
// field), and every manifest this project generates or declares passes the same schemas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  BatchV1Api,
  CoordinationV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
} from '@kubernetes/client-node';
import { baseConfig, type Created, deployed } from '../../infra/testing/pulumi-mocks.ts';
import type { RunRequest } from '../../orchestrator/scheduler/backend.ts';
import { parseKubernetesConfig } from '../../orchestrator/scheduler/kubernetes/config.ts';
import { jobManifest, plainManifest } from '../../orchestrator/scheduler/kubernetes/manifest.ts';
import { customResourceType } from './crd.ts';
import { KUEUE_CRDS } from './kueue-crds.ts';
import type { ResourceType } from './resource-type.ts';
import type { Cause, KubeObject } from './store.ts';
import { type FakeCluster, fakeKubeConfig, startFakeCluster } from './support.ts';
import { builtinCauses, loadModel } from './validation.ts';

const NS = 'esweep-test';

const request: RunRequest = {
  sweepId: 'cs1',
  sweepName: 'Paper_Sweep.v2',
  trialId: 'ct9',
  trialKey: '0123456789abcdef',
  attempt: 3,
  spec: { arch: 'vgg16', dataset: 'cifar10', pruner: 'lamp', type: 'effective', compression: 100, seed: 1 },
  dependsOnTrialId: 'ct1',
  resources: { gpu: 2, cpu: '4', memory: '16Gi' },
};

/** The Job manifests the controller creates, for a minimal and a fully configured cluster. */
function projectJobs(): V1Job[] {
  const minimal = parseKubernetesConfig({ image: 'registry.example/esweep-worker:1', namespace: NS });
  const full = parseKubernetesConfig({
    image: 'registry.example/esweep-worker:1',
    namespace: NS,
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
  return [
    plainManifest(jobManifest(request, minimal)),
    plainManifest(
      jobManifest({ ...request, attempt: 4, resources: { gpu: 0, cpu: '500m', memory: '1Gi' } }, full),
    ),
  ];
}

/** The lease leader election writes: MicroTimes with six fractional digits. */
function leaderLease(): KubeObject {
  const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'esweep-controller', namespace: NS },
    spec: {
      holderIdentity: 'esweep-controller-7d9f-abcde',
      leaseDurationSeconds: 15,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    },
  };
}

/** A Pulumi secret output as the mocks capture it: `{ <secret sig>: <sig>, value }`. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';

/** Pulumi's captured inputs as the plain manifest the provider would send. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if (SECRET_SIG in record) return plain(record.value);
  return Object.fromEntries(
    Object.entries(record)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, plain(v)]),
  );
}

const describeCauses = (causes: Cause[]) => causes.map((c) => `${c.field}: ${c.message}`).join('; ');

function clients(url: string) {
  const kc = fakeKubeConfig(url);
  return { batch: kc.makeApiClient(BatchV1Api), leases: kc.makeApiClient(CoordinationV1Api) };
}

describe('schema validation of built-in objects', () => {
  let cluster: FakeCluster;
  let api: ReturnType<typeof clients>;
  before(async () => {
    cluster = await startFakeCluster({ mode: 'instant' });
    api = clients(cluster.server.url);
  });
  after(() => cluster.close());

  test('an invalid Job is refused with 422 Invalid naming the field, through the real client', async () => {
    const [valid] = projectJobs();
    const create = (job: V1Job) => api.batch.createNamespacedJob({ namespace: NS, body: job });
    const refusal = async (request: Promise<unknown>) => {
      try {
        await request;
      } catch (error) {
        assert.ok(error instanceof ApiException, String(error));
        assert.equal(error.code, 422);
        const status = JSON.parse(String(error.body));
        assert.equal(status.reason, 'Invalid');
        return status as { message: string; details: { kind: string; causes: Cause[] } };
      }
      assert.fail('the Job was accepted');
    };

    const noImage = structuredClone(valid);
    noImage.metadata!.name = 'no-image';
    delete noImage.spec!.template.spec!.containers[0].image;
    const missing = await refusal(create(noImage));
    assert.equal(
      missing.message,
      'Job.batch "no-image" is invalid: spec.template.spec.containers[0].image: Required value',
    );
    assert.deepEqual(missing.details.causes, [
      {
        reason: 'FieldValueRequired',
        message: 'Required value',
        field: 'spec.template.spec.containers[0].image',
      },
    ]);
    assert.equal(missing.details.kind, 'Job');

    const wrongType = structuredClone(valid);
    wrongType.metadata!.name = 'wrong-type';
    (wrongType.spec as unknown as Record<string, unknown>).backoffLimit = 'three';
    (wrongType.spec!.template.spec as unknown as Record<string, unknown>).restartPolicy = 'Sometimes';
    const typed = await refusal(create(wrongType));
    assert.deepEqual(typed.details.causes.map((c) => c.field).sort(), [
      'spec.backoffLimit',
      'spec.template.spec.restartPolicy',
    ]);
    assert.match(
      typed.message,
      /spec\.backoffLimit: Invalid value: "string": spec\.backoffLimit in body must be of type integer/,
    );

    const longLabel = structuredClone(valid);
    longLabel.metadata!.name = 'long-label';
    longLabel.metadata!.labels!['esweep.io/sweep'] = 'x'.repeat(64);
    assert.equal((await refusal(create(longLabel))).details.causes[0].field, 'metadata.labels');
    assert.equal(cluster.server.store.list('jobs', NS).length, 0, 'nothing refused was stored');

    // An update is validated too, and a running Job's pod template is immutable.
    valid.metadata!.name = 'immutable';
    await api.batch.createNamespacedJob({ namespace: NS, body: valid });
    const immutable = await refusal(
      api.batch.patchNamespacedJob(
        {
          name: 'immutable',
          namespace: NS,
          body: { spec: { template: { spec: { containers: [{ name: 'worker', image: 'other:2' }] } } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    assert.equal(immutable.details.causes[0].field, 'spec.template');
  });

  test("the project's Job manifests and its leader Lease pass and are accepted", async () => {
    for (const job of projectJobs()) {
      const model = await loadModel('batch/v1', 'Job');
      assert.deepEqual(builtinCauses(model!, job as KubeObject), [], job.metadata?.name);
      const stored = await api.batch.createNamespacedJob({ namespace: NS, body: job });
      assert.ok(stored.metadata?.uid);
    }
    const lease = leaderLease();
    assert.deepEqual(builtinCauses((await loadModel('coordination.k8s.io/v1', 'Lease'))!, lease), []);
    const stored = await api.leases.createNamespacedLease({ namespace: NS, body: lease as never });
    assert.equal(stored.spec?.holderIdentity, 'esweep-controller-7d9f-abcde');
  });

  test('every resource the Pulumi program declares passes the Kubernetes schema', async () => {
    const declared: Created[] = [
      ...(await deployed(baseConfig)),
      ...(await deployed({ ...baseConfig, namespace: 'esweep-kueue', kueue: { enabled: true, gpus: 4 } })),
    ];
    const kueue = new Map<string, ResourceType>();
    for (const crd of KUEUE_CRDS) {
      const type = customResourceType(crd);
      kueue.set(`${type.group}/${type.versions[0]}/${type.kind}`, type);
    }
    const problems: string[] = [];
    const checked = new Set<string>();
    // Only Kubernetes objects are manifests: random passwords and providers are not sent to a cluster.
    const manifests = declared.filter((r) => r.type.startsWith('kubernetes:'));
    assert.ok(manifests.length >= 30, `expected the whole stack, got ${manifests.length}`);
    for (const resource of manifests) {
      const manifest = plain(resource.inputs) as KubeObject;
      const { apiVersion = '', kind = '' } = manifest;
      const where = `${kind} ${resource.name}`;
      const model = await loadModel(apiVersion, kind);
      const custom = kueue.get(`${apiVersion}/${kind}`);
      if (model)
        problems.push(...builtinCauses(model, manifest).map((c) => `${where}: ${c.field}: ${c.message}`));
      else if (custom) {
        const causes = custom.validate!(structuredClone(manifest), apiVersion.split('/')[1], 'main');
        problems.push(...causes.map((c) => `${where}: ${c.field}: ${c.message}`));
      } else
        problems.push(
          `${where}: no schema for ${apiVersion} ${kind} (neither kubernetes-models nor a known CRD)`,
        );
      checked.add(`${apiVersion} ${kind}`);
    }
    assert.deepEqual(problems, [], `invalid manifests:\n${problems.join('\n')}`);
    for (const kind of [
      'apps/v1 Deployment',
      'apps/v1 StatefulSet',
      'v1 Secret',
      'networking.k8s.io/v1 NetworkPolicy',
      'kueue.x-k8s.io/v1beta1 ClusterQueue',
    ]) {
      assert.ok(checked.has(kind), `${kind} was validated (${[...checked].join(', ')})`);
    }
  });

  test('the schema check catches a broken Pulumi manifest (it can fail)', async () => {
    const [deployment] = (await deployed(baseConfig)).filter(
      (r) => r.type === 'kubernetes:apps/v1:Deployment',
    );
    const manifest = plain(deployment.inputs) as KubeObject & {
      spec: { replicas: unknown; template: { spec: { containers: { ports?: unknown }[] } } };
    };
    manifest.spec.replicas = '2';
    manifest.spec.template.spec.containers[0].ports = [{ containerPort: 'http' }];
    const causes = builtinCauses((await loadModel('apps/v1', 'Deployment'))!, manifest);
    assert.deepEqual(
      causes.map((c) => c.field).sort(),
      ['spec.replicas', 'spec.template.spec.containers[0].ports[0].containerPort'],
      describeCauses(causes),
    );
  });
});
