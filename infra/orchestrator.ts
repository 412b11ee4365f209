// The orchestrator: the controller (creates one Job per runnable trial) under a ServiceAccount whose
// namespaced Role allows only what its kubernetes backend calls, and the ingester (NATS → Postgres)
// in a Deployment of its own under an account without an API token. Migrations run first, as the
// schema's owner; both then connect as the runtime role, which cannot change the schema. Workers
// run under their own ServiceAccount without an API token.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import type { KubernetesConfigInput } from '../orchestrator/scheduler/kubernetes/config.ts';
import type { InfraConfig } from './config.ts';
import { fromSecret, SECRET_NAMES } from './secrets.ts';
import { containerSecurity, labelsFor, scratch } from './security.ts';
import { singlePod } from './workload.ts';

export const ORCHESTRATOR_NAME = 'esweep-orchestrator';
export const CONTROLLER_ACCOUNT = 'esweep-controller';
export const WORKER_ACCOUNT = 'esweep-worker';
export const INGESTER_NAME = 'esweep-ingester';
export const INGESTER_ACCOUNT = 'esweep-ingester';
export const METRICS_PORT = 9464;
const UID = 1000;

/** Exactly the API the kubernetes backend uses (Job informer + create/delete, pod status). */
export const CONTROLLER_RULES = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
];

/** MiB in a Kubernetes quantity such as `10Gi` or `512Mi`. */
export function quantityMiB(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`cannot size from quantity '${quantity}'`);
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[match[2] ?? 'Mi'] ?? 1;
  return Math.floor(Number(match[1]) * factor);
}

/**
 * The ingester's flags: the events stream may take half of the NATS store and the dead letters a
 * twentieth (both reserve their share), the rest is left to the artifact bucket, whose objects expire.
 */
export function ingesterArgs(config: InfraConfig): string[] {
  const store = quantityMiB(config.storage.nats);
  return [
    'ingest',
    '--metrics-port',
    String(METRICS_PORT),
    '--stream-max-mb',
    String(Math.floor(store / 2)),
    '--dlq-max-mb',
    String(Math.max(1, Math.floor(store / 20))),
  ];
}

/** The kubernetes backend's settings (esweep-cluster.yaml), read by `esweep controller --cluster`. */
export function clusterConfig(config: InfraConfig): KubernetesConfigInput {
  return {
    namespace: config.namespace,
    image: config.images.worker,
    imagePullPolicy: config.images.pullPolicy,
    serviceAccountName: WORKER_ACCOUNT,
    nodeSelector: config.gpu.nodeSelector,
    tolerations: config.gpu.tolerations,
    ...(config.kueue.enabled ? { queueName: config.kueue.localQueue } : {}),
    secretEnv: [{ name: 'NATS_URL', secret: SECRET_NAMES.nats, key: 'url' }],
    ...(config.storage.datasetsClaim ? { dataVolume: { claimName: config.storage.datasetsClaim } } : {}),
  };
}

export function createOrchestrator(config: InfraConfig, namespace: pulumi.Input<string>) {
  const labels = labelsFor('orchestrator');
  const controllerAccount = new k8s.core.v1.ServiceAccount('controller', {
    metadata: { name: CONTROLLER_ACCOUNT, namespace },
  });
  const workerAccount = new k8s.core.v1.ServiceAccount('worker', {
    metadata: { name: WORKER_ACCOUNT, namespace },
    automountServiceAccountToken: false,
  });
  const ingesterAccount = new k8s.core.v1.ServiceAccount('ingester', {
    metadata: { name: INGESTER_ACCOUNT, namespace },
    automountServiceAccountToken: false,
  });
  const role = new k8s.rbac.v1.Role('controller', {
    metadata: { name: CONTROLLER_ACCOUNT, namespace },
    rules: CONTROLLER_RULES,
  });
  const roleBinding = new k8s.rbac.v1.RoleBinding('controller', {
    metadata: { name: CONTROLLER_ACCOUNT, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
    subjects: [{ kind: 'ServiceAccount', name: controllerAccount.metadata.name, namespace }],
  });
  const cluster = new k8s.core.v1.ConfigMap('cluster-config', {
    metadata: { name: 'esweep-cluster', namespace },
    data: { 'cluster.yaml': stringify(clusterConfig(config)) },
  });
  const tmp = scratch('tmp', '/tmp');
  const common = {
    image: config.images.orchestrator,
    imagePullPolicy: config.images.pullPolicy,
    securityContext: containerSecurity(UID),
    volumeMounts: [tmp.mount, { name: 'cluster', mountPath: '/etc/esweep', readOnly: true }],
  };
  const deployment = new k8s.apps.v1.Deployment('orchestrator', {
    metadata: { name: ORCHESTRATOR_NAME, namespace, labels },
    spec: {
      // Two controllers would race on the same trials: replace, never overlap.
      strategy: { type: 'Recreate' },
      ...singlePod(labels, UID, {
        serviceAccountName: controllerAccount.metadata.name,
        automountServiceAccountToken: true,
        initContainers: [
          {
            ...common,
            name: 'migrate',
            args: ['db', 'migrate'],
            env: [fromSecret('DATABASE_URL', SECRET_NAMES.postgres, 'migration-url')],
            resources: config.resources.controller,
          },
        ],
        containers: [
          {
            ...common,
            name: 'controller',
            args: [
              'controller',
              '--backend',
              'kubernetes',
              '--cluster',
              '/etc/esweep/cluster.yaml',
              '--metrics-port',
              String(METRICS_PORT),
            ],
            env: [fromSecret('DATABASE_URL', SECRET_NAMES.postgres, 'database-url')],
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: config.resources.controller,
            livenessProbe: {
              httpGet: { path: '/healthz', port: METRICS_PORT },
              initialDelaySeconds: 10,
              periodSeconds: 15,
            },
            readinessProbe: { httpGet: { path: '/readyz', port: METRICS_PORT }, periodSeconds: 5 },
          },
        ],
        volumes: [tmp.volume, { name: 'cluster', configMap: { name: cluster.metadata.name } }],
      }),
    },
  });
  const ingesterLabels = labelsFor('ingester');
  const ingester = new k8s.apps.v1.Deployment('ingester', {
    metadata: { name: INGESTER_NAME, namespace, labels: ingesterLabels },
    spec: {
      ...singlePod(ingesterLabels, UID, {
        serviceAccountName: ingesterAccount.metadata.name,
        automountServiceAccountToken: false,
        containers: [
          {
            ...common,
            volumeMounts: [tmp.mount],
            name: 'ingester',
            args: ingesterArgs(config),
            env: [
              fromSecret('DATABASE_URL', SECRET_NAMES.postgres, 'database-url'),
              fromSecret('NATS_URL', SECRET_NAMES.nats, 'url'),
            ],
            ports: [{ name: 'metrics', containerPort: METRICS_PORT }],
            resources: config.resources.ingester,
            // Alive while the process serves; ready while NATS and the database both answer.
            livenessProbe: {
              httpGet: { path: '/healthz', port: METRICS_PORT },
              initialDelaySeconds: 10,
              periodSeconds: 15,
            },
            readinessProbe: { httpGet: { path: '/readyz', port: METRICS_PORT }, periodSeconds: 10 },
          },
        ],
        volumes: [tmp.volume],
      }),
    },
  });
  const service = new k8s.core.v1.Service('orchestrator-metrics', {
    metadata: { name: ORCHESTRATOR_NAME, namespace, labels },
    spec: { selector: labels, ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT }] },
  });
  return {
    controllerAccount,
    workerAccount,
    ingesterAccount,
    role,
    roleBinding,
    cluster,
    deployment,
    ingester,
    service,
  };
}
