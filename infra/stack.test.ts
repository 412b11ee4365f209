// The Pulumi program under pulumi.runtime.setMocks (no CLI, no cluster): RBAC, security contexts,
// secrets by reference only, NetworkPolicies, the dashboards ConfigMap and the controller's settings.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { dashboardFiles } from '../dashboards/index.ts';
import { CONTROLLER_HEAP_MB, INGESTER_HEAP_MB } from '../orchestrator/node-heap.ts';
import { parseKubernetesConfig } from '../orchestrator/scheduler/kubernetes/config.ts';
import { jobManifest } from '../orchestrator/scheduler/kubernetes/manifest.ts';
import { sweepCrd } from '../orchestrator/sweep/crd.ts';
import { parseInfraConfig } from './config.ts';
import { DASHBOARDS_CONFIGMAP } from './grafana.ts';
import { NATS_PORT } from './nats.ts';
import {
  CONTROLLER_ACCOUNT,
  CONTROLLER_LEASE,
  INGESTER_ACCOUNT,
  METRICS_PORT,
  quantityMiB,
} from './orchestrator.ts';
import { POSTGRES_PORT, ROLES_SCRIPT } from './postgres.ts';
import { RUNTIME_ROLE } from './secrets.ts';
import { USER_ROLE } from './sweep-resource.ts';
import { baseConfig, type Created, deployed, SECRET_MARK } from './testing/pulumi-mocks.ts';

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

  it('grants the controller exactly jobs create/get/list/watch/delete, pods get/list/watch, its lease and its verbs on sweeps, namespaced', () => {
    const roles = ofKind(resources, 'rbac.authorization.k8s.io/v1:Role').filter(
      (r) => r.inputs.metadata.name === CONTROLLER_ACCOUNT,
    );
    assert.equal(roles.length, 1);
    assert.deepEqual(roles[0]!.inputs.rules, [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: [CONTROLLER_LEASE],
        verbs: ['get', 'update'],
      },
      { apiGroups: ['esweep.dev'], resources: ['sweeps'], verbs: ['get', 'list', 'watch', 'update'] },
      { apiGroups: ['esweep.dev'], resources: ['sweeps/status', 'sweeps/finalizers'], verbs: ['update'] },
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

  it('installs the generated Sweep CRD and a namespaced esweep-user Role limited to sweeps', () => {
    const crds = ofKind(resources, 'apiextensions.k8s.io/v1:CustomResourceDefinition');
    assert.equal(crds.length, 1);
    const crd = crds[0]!.inputs;
    assert.equal(crd.metadata.name, 'sweeps.esweep.dev');
    // Generated, not hand-written: exactly what orchestrator/sweep/crd.ts produces from the zod schema.
    assert.deepEqual(crd.spec, sweepCrd().spec);
    assert.ok(
      crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.pruners.items.enum.includes(
        'snip',
      ),
    );
    const [user] = ofKind(resources, 'rbac.authorization.k8s.io/v1:Role').filter(
      (r) => r.inputs.metadata.name === USER_ROLE,
    );
    assert.equal(user!.inputs.metadata.namespace, 'esweep');
    assert.deepEqual(user!.inputs.rules, [
      {
        apiGroups: ['esweep.dev'],
        resources: ['sweeps'],
        verbs: ['create', 'get', 'list', 'watch', 'delete'],
      },
    ]);
    // Bound by an administrator to researchers, not by the stack.
    const bindings = ofKind(resources, 'rbac.authorization.k8s.io/v1:RoleBinding');
    assert.ok(bindings.every((b) => b.inputs.roleRef.name !== USER_ROLE));
  });

  it('creates nothing cluster-wide but the Sweep CRD (no ClusterRole, ClusterRoleBinding or wildcard rule)', () => {
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
        r.type !== 'kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition' &&
        !r.inputs.metadata?.namespace,
    );
    assert.deepEqual(
      cluster.map((r) => r.type),
      [],
      'every resource but the Namespace and the CRD is namespaced',
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

  it('runs two controller replicas that elect a leader, each named by its pod', () => {
    const [orchestrator] = ofKind(resources, 'apps/v1:Deployment').filter((d) => d.name === 'orchestrator');
    const spec = orchestrator!.inputs.spec;
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.strategy, { type: 'Recreate' }, 'readiness is the lead: no rolling update');
    const controller = spec.template.spec.containers.find((c: { name: string }) => c.name === 'controller');
    assert.deepEqual(
      controller.env.find((e: { name: string }) => e.name === 'POD_NAME'),
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    );
    const lease = controller.args.indexOf('--lease-name');
    assert.equal(controller.args[lease + 1], CONTROLLER_LEASE);
    assert.ok(!controller.args.includes('--no-leader-elect'));
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

  it('bounds the V8 heap of the controller and the ingester well inside their memory limits', () => {
    for (const [deploymentName, name, heapMb] of [
      ['orchestrator', 'controller', CONTROLLER_HEAP_MB],
      ['ingester', 'ingester', INGESTER_HEAP_MB],
    ] as const) {
      const [deployment] = ofKind(resources, 'apps/v1:Deployment').filter((d) => d.name === deploymentName);
      const container = deployment!.inputs.spec.template.spec.containers.find(
        (c: { name: string }) => c.name === name,
      );
      const nodeOptions = container.env.find((e: { name: string }) => e.name === 'NODE_OPTIONS');
      assert.equal(nodeOptions?.value, `--max-old-space-size=${heapMb}`, name);
      assert.ok(heapMb * 2 <= quantityMiB(container.resources.limits.memory), name);
    }
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

  it('in NATS operator mode, mounts one file of the operator Secret per pod and lets the controller create Secrets', async () => {
    const accountPublicKey = `A${'B'.repeat(55)}`;
    const operator = await deployed({
      ...baseConfig,
      namespace: 'esweep-operator',
      nats: { operator: { accountPublicKey } },
    });
    const natsConf = operator.find((c) => c.name === 'nats-config')!.inputs.data['nats.conf'];
    assert.match(natsConf, /include "auth\.conf"/);
    assert.doesNotMatch(natsConf, /authorization|PASSWORD/);
    const podOf = (name: string) =>
      operator.find((r) => r.name === name && /apps\/v1/.test(r.type))!.inputs.spec.template.spec;
    const secretItems = (pod: { volumes: { secret?: unknown; projected?: { sources: unknown[] } }[] }) =>
      JSON.stringify(pod.volumes.flatMap((v) => [v.secret, ...(v.projected?.sources ?? [])]));
    assert.match(secretItems(podOf('nats')), /"key":"auth\.conf"/);
    assert.deepEqual(podOf('nats').containers[0].env, []);
    const controller = podOf('orchestrator');
    assert.match(secretItems(controller), /"key":"account-signing\.nk"/);
    assert.doesNotMatch(secretItems(controller), /ingester\.creds|auth\.conf/);
    const ingester = podOf('ingester');
    assert.match(secretItems(ingester), /"key":"ingester\.creds"/);
    assert.doesNotMatch(secretItems(ingester), /account-signing/);
    assert.deepEqual(
      ingester.containers[0].env.filter((e: { name: string }) => e.name.startsWith('NATS_')),
      [
        { name: 'NATS_URL', value: `nats://esweep-nats:${NATS_PORT}` },
        { name: 'NATS_CREDS', value: '/etc/esweep-nats/ingester.creds' },
      ],
    );
    const role = ofKind(operator, 'rbac.authorization.k8s.io/v1:Role').find(
      (r) => r.inputs.metadata.name === CONTROLLER_ACCOUNT,
    );
    assert.deepEqual(role!.inputs.rules.at(-1), {
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['create'],
    });
    // The controller's settings parse, and Jobs mount their own credentials.
    const cluster = parseKubernetesConfig(
      parseYaml(operator.find((c) => c.name === 'cluster-config')!.inputs.data['cluster.yaml']),
    );
    assert.deepEqual(cluster.nats?.credentials?.accountSigningKeyFile, '/etc/esweep-nats/account-signing.nk');
    assert.equal(cluster.nats?.credentials?.accountPublicKey, accountPublicKey);
    assert.equal(cluster.env.NATS_URL, `nats://esweep-nats:${NATS_PORT}`);
    assert.deepEqual(cluster.secretEnv, []);
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
