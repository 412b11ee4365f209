// The Pulumi program under pulumi.runtime.setMocks (no CLI, no cluster): RBAC, security contexts,
// secrets by reference only, NetworkPolicies, the dashboards ConfigMap and the controller's settings.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { dashboardFiles } from '../dashboards/index.ts';
import { parseKubernetesConfig } from '../orchestrator/scheduler/kubernetes/config.ts';
import { jobManifest } from '../orchestrator/scheduler/kubernetes/manifest.ts';
import { type InfraConfigInput, parseInfraConfig } from './config.ts';
import { DASHBOARDS_CONFIGMAP } from './grafana.ts';
import { NATS_PORT } from './nats.ts';
import { CONTROLLER_ACCOUNT, INGESTER_ACCOUNT, METRICS_PORT, quantityMiB } from './orchestrator.ts';
import { POSTGRES_PORT, ROLES_SCRIPT } from './postgres.ts';
import { RUNTIME_ROLE } from './secrets.ts';
import { deploy } from './stack.ts';

interface Created {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON in the mocks
  inputs: any;
}

const created: Created[] = [];
const SECRET_MARK = 'mock-secret-';

await pulumi.runtime.setMocks(
  {
    newResource(args) {
      created.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = { ...args.inputs };
      if (args.type === 'random:index/randomPassword:RandomPassword')
        state.result = `${SECRET_MARK}${args.name}`;
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  'esweep',
  'test',
  false,
);

const baseConfig: InfraConfigInput = {
  images: { worker: 'registry.example/esweep-worker:1', orchestrator: 'registry.example/esweep:1' },
};

/** Deploys into fresh mocks state and returns the resources registered by this deployment. */
async function deployed(input: InfraConfigInput): Promise<Created[]> {
  const start = created.length;
  const stack = deploy(parseInfraConfig(input));
  await Promise.all(stack.resources.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  return created.slice(start);
}

const ofKind = (resources: Created[], kind: string) =>
  resources.filter((r) => r.type === `kubernetes:${kind}`);

function containers(resources: Created[]) {
  return resources
    .filter((r) => r.type === 'kubernetes:apps/v1:Deployment' || r.type === 'kubernetes:apps/v1:StatefulSet')
    .flatMap((r) => {
      const spec = r.inputs.spec.template.spec;
      return [...(spec.initContainers ?? []), ...spec.containers].map((c) => ({
        owner: r.name,
        pod: spec,
        container: c,
      }));
    });
}

describe('infra stack (pulumi mocks)', () => {
  let resources: Created[];
  before(async () => {
    resources = await deployed(baseConfig);
  });

  it('grants the controller exactly jobs create/get/list/watch/delete and pods get/list/watch, namespaced', () => {
    const roles = ofKind(resources, 'rbac.authorization.k8s.io/v1:Role');
    assert.equal(roles.length, 1);
    assert.deepEqual(roles[0]!.inputs.rules, [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    assert.equal(roles[0]!.inputs.metadata.namespace, 'esweep');
    const [binding] = ofKind(resources, 'rbac.authorization.k8s.io/v1:RoleBinding');
    assert.deepEqual(binding!.inputs.subjects, [
      { kind: 'ServiceAccount', name: CONTROLLER_ACCOUNT, namespace: 'esweep' },
    ]);
    assert.deepEqual(binding!.inputs.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: CONTROLLER_ACCOUNT,
    });
    const [orchestrator] = ofKind(resources, 'apps/v1:Deployment').filter((d) => d.name === 'orchestrator');
    assert.equal(orchestrator!.inputs.spec.template.spec.serviceAccountName, CONTROLLER_ACCOUNT);
  });

  it('creates nothing cluster-wide (no ClusterRole, ClusterRoleBinding or wildcard rule)', () => {
    assert.deepEqual(
      resources.filter((r) => /ClusterRole/.test(r.type)),
      [],
    );
    for (const role of ofKind(resources, 'rbac.authorization.k8s.io/v1:Role'))
      for (const rule of role.inputs.rules)
        for (const field of ['apiGroups', 'resources', 'verbs']) assert.ok(!rule[field].includes('*'));
    const cluster = resources.filter(
      (r) =>
        r.type.startsWith('kubernetes:') &&
        r.type !== 'kubernetes:core/v1:Namespace' &&
        !r.inputs.metadata?.namespace,
    );
    assert.deepEqual(
      cluster.map((r) => r.type),
      [],
      'every resource but the Namespace is namespaced',
    );
  });

  it('keeps generated secrets in Secrets only: env uses secretKeyRef, no value or ConfigMap holds one', () => {
    const secrets = ofKind(resources, 'core/v1:Secret');
    assert.equal(secrets.length, 3);
    assert.ok(JSON.stringify(secrets).includes(SECRET_MARK), 'the mocks mark generated passwords');
    const outsideSecrets = JSON.stringify(
      resources.filter((r) => r.type !== 'kubernetes:core/v1:Secret' && !r.type.startsWith('random:')),
    );
    assert.ok(!outsideSecrets.includes(SECRET_MARK), 'a generated password leaked outside the Secrets');
    const all = containers(resources);
    assert.ok(all.length >= 5);
    for (const { owner, container } of all) {
      for (const env of container.env ?? []) {
        if (/PASSWORD|URL|TOKEN|SECRET/.test(env.name)) {
          assert.equal(env.value, undefined, `${owner}/${container.name}: ${env.name} is inline`);
          assert.ok(
            env.valueFrom?.secretKeyRef?.name,
            `${owner}/${container.name}: ${env.name} not from a Secret`,
          );
        }
      }
    }
  });

  it('runs every container non-root, read-only, without privilege escalation, with cpu and memory limits', () => {
    for (const { owner, pod, container } of containers(resources)) {
      const where = `${owner}/${container.name}`;
      assert.equal(pod.securityContext.runAsNonRoot, true, where);
      assert.equal(container.securityContext.runAsNonRoot, true, where);
      assert.ok(container.securityContext.runAsUser > 0, where);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true, where);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false, where);
      assert.deepEqual(container.securityContext.capabilities, { drop: ['ALL'] }, where);
      assert.ok(container.resources.limits.cpu && container.resources.limits.memory, where);
      assert.ok(container.resources.requests.cpu && container.resources.requests.memory, where);
    }
  });

  it('probes the controller on its health endpoints', () => {
    const orchestrator = containers(resources).find((c) => c.container.name === 'controller')!.container;
    assert.deepEqual(orchestrator.livenessProbe.httpGet, { path: '/healthz', port: METRICS_PORT });
    assert.deepEqual(orchestrator.readinessProbe.httpGet, { path: '/readyz', port: METRICS_PORT });
    assert.ok(orchestrator.args.includes(String(METRICS_PORT)));
  });

  it('labels the namespace for Pod Security Admission restricted', () => {
    const [namespace] = ofKind(resources, 'core/v1:Namespace');
    const labels = namespace!.inputs.metadata.labels;
    for (const mode of ['enforce', 'warn', 'audit']) {
      assert.equal(labels[`pod-security.kubernetes.io/${mode}`], 'restricted');
    }
  });

  it('runs the ingester in its own Deployment under an account without an API token', () => {
    const deployments = Object.fromEntries(
      ofKind(resources, 'apps/v1:Deployment').map((d) => [d.name, d.inputs]),
    );
    const ingester = deployments.ingester.spec.template.spec;
    assert.equal(ingester.serviceAccountName, INGESTER_ACCOUNT);
    assert.equal(ingester.automountServiceAccountToken, false);
    assert.deepEqual(
      ingester.containers.map((c: { name: string }) => c.name),
      ['ingester'],
    );
    assert.deepEqual(
      deployments.orchestrator.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['controller'],
    );
    const [account] = ofKind(resources, 'core/v1:ServiceAccount').filter((a) => a.name === 'ingester');
    assert.equal(account!.inputs.automountServiceAccountToken, false);
    // The controller keeps its probes.
    const [controller] = deployments.orchestrator.spec.template.spec.containers;
    assert.equal(controller.livenessProbe.httpGet.path, '/healthz');
    assert.equal(controller.readinessProbe.httpGet.path, '/readyz');
  });

  it('probes the ingester on its health endpoints and sizes its streams from the NATS store', () => {
    const [deployment] = ofKind(resources, 'apps/v1:Deployment').filter((d) => d.name === 'ingester');
    const [ingester] = deployment!.inputs.spec.template.spec.containers;
    assert.deepEqual(ingester.livenessProbe.httpGet, { path: '/healthz', port: METRICS_PORT });
    assert.deepEqual(ingester.readinessProbe.httpGet, { path: '/readyz', port: METRICS_PORT });
    assert.deepEqual(ingester.ports, [{ name: 'metrics', containerPort: METRICS_PORT }]);
    const flag = (name: string) => ingester.args[ingester.args.indexOf(name) + 1];
    assert.equal(ingester.args[0], 'ingest');
    assert.equal(flag('--metrics-port'), String(METRICS_PORT));
    // The default NATS volume is 10Gi: half for events, a twentieth for dead letters.
    assert.equal(flag('--stream-max-mb'), '5120');
    assert.equal(flag('--dlq-max-mb'), '512');
    assert.equal(quantityMiB('512Mi'), 512);
    assert.equal(quantityMiB('1Ti'), 1024 * 1024);
    assert.throws(() => quantityMiB('10G'), /cannot size/);
  });

  it('migrates as the schema owner; the controller and ingester run as the runtime role; Grafana reads', () => {
    const secretKey = (container: {
      env: { name: string; valueFrom: { secretKeyRef: { key: string } } }[];
    }) => container.env.find((e) => e.name === 'DATABASE_URL')!.valueFrom.secretKeyRef.key;
    const deployments = Object.fromEntries(
      ofKind(resources, 'apps/v1:Deployment').map((d) => [d.name, d.inputs]),
    );
    const orchestrator = deployments.orchestrator.spec.template.spec;
    const [migrate] = orchestrator.initContainers;
    assert.deepEqual(migrate.args, ['db', 'migrate']);
    assert.equal(secretKey(migrate), 'migration-url');
    assert.equal(secretKey(orchestrator.containers[0]), 'database-url');
    assert.equal(secretKey(deployments.ingester.spec.template.spec.containers[0]), 'database-url');
    for (const container of [
      orchestrator.containers[0],
      deployments.ingester.spec.template.spec.containers[0],
    ]) {
      assert.ok(!container.args.includes('--migrate'), `${container.name} does not migrate`);
    }
    assert.equal(RUNTIME_ROLE, 'esweep_runtime');
    assert.match(ROLES_SCRIPT, /GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO esweep_runtime/);
    assert.doesNotMatch(ROLES_SCRIPT, /esweep_runtime.*(OWNER|CREATE ON)/);
    assert.match(ROLES_SCRIPT, /ALTER ROLE grafana_reader SET default_transaction_read_only = on/);
  });

  it('lets only the monitoring namespace reach the metrics port and Grafana', () => {
    const policies = Object.fromEntries(
      ofKind(resources, 'networking.k8s.io/v1:NetworkPolicy').map((p) => [p.name, p.inputs.spec]),
    );
    const monitoring = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ];
    assert.deepEqual(policies.orchestrator.ingress, [
      { from: monitoring, ports: [{ protocol: 'TCP', port: METRICS_PORT }] },
    ]);
    assert.deepEqual(policies.grafana.ingress[0].from, monitoring);
  });

  it('puts NATS and Postgres on PVCs', () => {
    const sets = ofKind(resources, 'apps/v1:StatefulSet');
    assert.deepEqual(sets.map((s) => s.name).sort(), ['nats', 'postgres']);
    for (const set of sets) assert.equal(set.inputs.spec.volumeClaimTemplates[0].metadata.name, 'data');
  });

  it('isolates the pods with NetworkPolicies: default deny, workers → NATS only, orchestrator, Grafana', () => {
    const policies = Object.fromEntries(
      ofKind(resources, 'networking.k8s.io/v1:NetworkPolicy').map((p) => [p.name, p.inputs.spec]),
    );
    assert.deepEqual(Object.keys(policies).sort(), [
      'default-deny',
      'dns',
      'grafana',
      'ingester',
      'nats',
      'orchestrator',
      'postgres',
      'workers',
    ]);
    assert.deepEqual(policies['default-deny'].podSelector, {});
    assert.deepEqual(policies['default-deny'].policyTypes, ['Ingress', 'Egress']);
    const egressPorts = (name: string) =>
      policies[name].egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port));
    assert.deepEqual(egressPorts('workers'), [NATS_PORT]);
    assert.deepEqual(egressPorts('orchestrator'), [POSTGRES_PORT, 443, 6443]);
    assert.deepEqual(egressPorts('ingester'), [NATS_PORT, POSTGRES_PORT]);
    assert.deepEqual(egressPorts('grafana'), [POSTGRES_PORT]);
    // the workers' policy selects the pods of the Jobs the controller creates from the generated settings
    const cluster = parseKubernetesConfig(
      parseYaml(
        ofKind(resources, 'core/v1:ConfigMap').find((c) => c.name === 'cluster-config')!.inputs.data[
          'cluster.yaml'
        ],
      ),
    );
    const job = jobManifest(
      {
        sweepId: 's1',
        sweepName: 'paper',
        trialId: 't1',
        trialKey: 'abc',
        attempt: 1,
        spec: {
          arch: 'lenet5',
          dataset: 'cifar10',
          pruner: 'snip',
          type: 'direct',
          compression: 10,
          seed: 0,
        },
        dependsOnTrialId: null,
        resources: { gpu: 1 },
      },
      cluster,
    );
    const podLabels = job.spec!.template.metadata!.labels!;
    for (const [key, value] of Object.entries(policies.workers.podSelector.matchLabels))
      assert.equal(podLabels[key], value);
    assert.deepEqual(job.spec!.template.spec!.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(job.spec!.template.spec!.tolerations, [
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ]);
    assert.deepEqual(
      job.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'NATS_URL')!.valueFrom,
      {
        secretKeyRef: { name: 'esweep-nats', key: 'url' },
      },
    );
    assert.equal(job.spec!.template.spec!.serviceAccountName, 'esweep-worker');
  });

  it('mounts the built dashboards JSON from a ConfigMap and provisions the read-only data source', () => {
    const dashboards = ofKind(resources, 'core/v1:ConfigMap').find((c) => c.name === 'dashboards')!;
    assert.equal(dashboards.inputs.metadata.name, DASHBOARDS_CONFIGMAP);
    assert.deepEqual(dashboards.inputs.data, dashboardFiles());
    assert.ok(Object.keys(dashboards.inputs.data).length >= 3);
    const provisioning = ofKind(resources, 'core/v1:ConfigMap').find(
      (c) => c.name === 'grafana-provisioning',
    )!;
    const [source] = parseYaml(provisioning.inputs.data['datasources.yaml']).datasources;
    assert.equal(source.type, 'grafana-postgresql-datasource');
    assert.equal(source.user, 'grafana_reader');
    assert.equal(source.secureJsonData.password, '$READER_PASSWORD');
    const grafana = ofKind(resources, 'apps/v1:Deployment').find((d) => d.name === 'grafana')!;
    const volumes = grafana.inputs.spec.template.spec.volumes;
    assert.ok(
      volumes.some((v: { configMap?: { name: string } }) => v.configMap?.name === DASHBOARDS_CONFIGMAP),
    );
  });

  it('adds Kueue queues with an nvidia.com/gpu quota only when enabled, and Jobs name the LocalQueue', async () => {
    assert.equal(resources.filter((r) => r.type.startsWith('kubernetes:kueue')).length, 0);
    const withKueue = await deployed({
      ...baseConfig,
      namespace: 'esweep-kueue',
      kueue: { enabled: true, gpus: 4 },
    });
    const kinds = withKueue.filter((r) => r.type.startsWith('kubernetes:kueue')).map((r) => r.inputs.kind);
    assert.deepEqual(kinds.sort(), ['ClusterQueue', 'LocalQueue', 'ResourceFlavor']);
    const clusterQueue = withKueue.find((r) => r.inputs.kind === 'ClusterQueue')!;
    const quota = clusterQueue.inputs.spec.resourceGroups[0].flavors[0].resources;
    assert.deepEqual(
      quota.find((r: { name: string }) => r.name === 'nvidia.com/gpu'),
      { name: 'nvidia.com/gpu', nominalQuota: 4 },
    );
    const cluster = parseYaml(
      withKueue.find((c) => c.name === 'cluster-config')!.inputs.data['cluster.yaml'],
    );
    assert.equal(cluster.queueName, 'esweep');
    assert.equal(cluster.namespace, 'esweep-kueue');
  });

  it('rejects bad stack config with one line naming the field', () => {
    const rejects = (input: unknown, message: string) =>
      assert.throws(() => parseInfraConfig(input), { name: 'InputError', message });
    rejects(
      { ...baseConfig, namespace: 'Not_A_Label' },
      'esweep stack config: namespace: must be a DNS label, got "Not_A_Label"',
    );
    rejects({}, 'esweep stack config: images: is required');
    rejects(
      { ...baseConfig, apiServer: { cidrs: ['10.0.0.1'] } },
      'esweep stack config: apiServer.cidrs[0]: must be a CIDR, got "10.0.0.1"',
    );
    rejects({ ...baseConfig, kueue: { gpus: 0 } }, 'esweep stack config: kueue.gpus: must be > 0, got 0');
  });
});
