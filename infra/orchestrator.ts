// The orchestrator: the controller (creates one Job per runnable trial) under a ServiceAccount whose
// namespaced Role allows only what its kubernetes backend calls, and the ingester (NATS → Postgres)
// in a Deployment of its own under an account without an API token. Migrations run first, as the
// schema's owner; both then connect as the runtime role, which cannot change the schema. Workers
// run under their own ServiceAccount without an API token.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import { CONTROLLER_HEAP_MB, heapLimitOptions, INGESTER_HEAP_MB } from '../orchestrator/node-heap.ts';
import type { KubernetesConfigInput } from '../orchestrator/scheduler/kubernetes/config.ts';
import type { InfraConfig } from './config.ts';
import { NATS_NAME, NATS_PORT } from './nats.ts';
import { OPERATOR_FILES, operatorFile, operatorMode } from './nats-operator.ts';
import { fromSecret, SECRET_NAMES } from './secrets.ts';
import { containerSecurity, labelsFor, scratch } from './security.ts';
import { SWEEP_CONTROLLER_RULES } from './sweep-resource.ts';
import { singlePod } from './workload.ts';

export const ORCHESTRATOR_NAME = 'esweep-orchestrator';
export const CONTROLLER_ACCOUNT = 'esweep-controller';
export const WORKER_ACCOUNT = 'esweep-worker';
export const INGESTER_NAME = 'esweep-ingester';
export const INGESTER_ACCOUNT = 'esweep-ingester';
export const METRICS_PORT = 9464;
const UID = 1000;

export const CONTROLLER_REPLICAS = 2;
/** The Lease the controller replicas elect their leader on (`esweep controller --lease-name`). */
export const CONTROLLER_LEASE = 'esweep-controller';

/**
 * Exactly the API the kubernetes backend uses (Job informer + create/delete, pod status) leader
 * election (its Lease: created once, then read and updated; `create` cannot be narrowed to a name), and Sweeps.
 */
export const CONTROLLER_RULES = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [CONTROLLER_LEASE],
    verbs: ['get', 'update'],
  },
  ...SWEEP_CONTROLLER_RULES,
];

/** In NATS operator mode the controller also creates each Job's credentials Secret. */
export function controllerRules(config: InfraConfig) {
  return operatorMode(config)
    ? [...CONTROLLER_RULES, { apiGroups: [''], resources: ['secrets'], verbs: ['create'] }]
    : CONTROLLER_RULES;
}

/** In operator mode the URL carries no password (each client has its own credentials). */
const PLAIN_NATS_URL = `nats://${NATS_NAME}:${NATS_PORT}`;

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
  const operator = operatorMode(config);
  if (operator) {
    const { secretEnv: _password, ...rest } = sharedUserClusterConfig(config);
    return {
      ...rest,
      env: { NATS_URL: PLAIN_NATS_URL },
      nats: {
        credentials: {
          accountSigningKeyFile: operatorFile(operator.secret, OPERATOR_FILES.signingKey).path,
          accountPublicKey: operator.accountPublicKey,
        },
      },
    };
  }
  return sharedUserClusterConfig(config);
}

function sharedUserClusterConfig(config: InfraConfig): KubernetesConfigInput {
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
    rules: controllerRules(config),
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
  const operator = operatorMode(config);
  const signingKey = operator ? operatorFile(operator.secret, OPERATOR_FILES.signingKey) : undefined;
  const ingesterCreds = operator ? operatorFile(operator.secret, OPERATOR_FILES.ingester) : undefined;
  const common = {
    image: config.images.orchestrator,
    imagePullPolicy: config.images.pullPolicy,
    securityContext: containerSecurity(UID),
    volumeMounts: [tmp.mount, { name: 'cluster', mountPath: '/etc/esweep', readOnly: true }],
  };
  const deployment = new k8s.apps.v1.Deployment('orchestrator', {
    metadata: { name: ORCHESTRATOR_NAME, namespace, labels },
    spec: {
      // Replicas elect a leader on a Lease; only it acts, the other waits to take over (a node lost,
      // a pod evicted). Readiness is the lead, so a rolling update would wait forever for a new pod
      // to be Ready while the old leader holds the lease: replace instead. The old leader releases
      // the lease on SIGTERM, so a new pod takes over within a retry period.
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
              '--lease-name',
              CONTROLLER_LEASE,
            ],
            env: [
              { name: 'NODE_OPTIONS', value: heapLimitOptions(CONTROLLER_HEAP_MB) },
              fromSecret('DATABASE_URL', SECRET_NAMES.postgres, 'database-url'),
              // The replica's identity in the lease, the logs and the API server's audit log.
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            volumeMounts: [...common.volumeMounts, ...(signingKey ? [signingKey.mount] : [])],
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
        volumes: [
          tmp.volume,
          { name: 'cluster', configMap: { name: cluster.metadata.name } },
          ...(signingKey ? [signingKey.volume] : []),
        ],
      }),
      replicas: CONTROLLER_REPLICAS,
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
            volumeMounts: [tmp.mount, ...(ingesterCreds ? [ingesterCreds.mount] : [])],
            name: 'ingester',
            args: ingesterArgs(config),
            env: [
              { name: 'NODE_OPTIONS', value: heapLimitOptions(INGESTER_HEAP_MB) },
              fromSecret('DATABASE_URL', SECRET_NAMES.postgres, 'database-url'),
              ...(ingesterCreds
                ? [
                    { name: 'NATS_URL', value: PLAIN_NATS_URL },
                    { name: 'NATS_CREDS', value: ingesterCreds.path },
                  ]
                : [fromSecret('NATS_URL', SECRET_NAMES.nats, 'url')]),
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
        volumes: [tmp.volume, ...(ingesterCreds ? [ingesterCreds.volume] : [])],
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
