// One batch/v1 Job per trial attempt, as a pure function of the request and the cluster settings.
import type { V1EnvVar, V1Job } from '@kubernetes/client-node';
import { BAD_INPUT_EXIT_CODE } from '../../../common/errors.ts';
import type { RunRequest } from '../backend.ts';
import { workerEnvironment } from '../environment.ts';
import { runName } from '../names.ts';
import type { KubernetesConfig } from './config.ts';

export const CONTAINER_NAME = 'worker';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  sweepId: 'esweep.io/sweep-id',
  sweep: 'esweep.io/sweep',
  trialId: 'esweep.io/trial-id',
  trial: 'esweep.io/trial',
  attempt: 'esweep.io/attempt',
  kueueQueue: 'kueue.x-k8s.io/queue-name',
} as const;

const MANAGED_BY = 'esweep';

/** The label on every Job and pod this program creates; as `matchLabels` it selects them. */
export const MANAGED_LABELS: Readonly<Record<string, string>> = { [LABELS.managedBy]: MANAGED_BY };

/** Selects every Job this program created (a label selector for list and watch). */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;

/**
 * The container writes the TrialSpec from its environment to a file and hands it to the
 * worker command, so the Job needs no ConfigMap per trial.
 */
const TRIAL_FILE_SCRIPT = 'f="$(mktemp)" && printf "%s" "$ESWEEP_TRIAL" > "$f" && exec "$@" --trial "$f"';

/** Workers run as an unprivileged user on a read-only root filesystem; /tmp is a scratch emptyDir. */
const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  fsGroup: 1000,
  seccompProfile: { type: 'RuntimeDefault' },
};
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

function containerEnv(request: RunRequest, name: string, config: KubernetesConfig): V1EnvVar[] {
  const plain = { ...config.env, ...workerEnvironment(request, name) };
  if (config.dataVolume) plain.ESWEEP_DATA_DIR = config.dataVolume.mountPath;
  return [
    ...Object.entries(plain).map(([key, value]) => ({ name: key, value })),
    { name: 'ESWEEP_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'ESWEEP_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ...config.secretEnv.map((s) => ({
      name: s.name,
      valueFrom: { secretKeyRef: { name: s.secret, key: s.key } },
    })),
  ];
}

/**
 * What a worker asks for when its sweep names no `resources`: enough for the data loader and one
 * model on the CPU side; scheduling without requests would pack workers onto a node until they
 * are OOM-killed. Memory is limited at what is requested (a worker over it is a bug, not a peak).
 */
export const DEFAULT_WORKER_RESOURCES = { cpu: '2', memory: '8Gi' } as const;
/** The /tmp emptyDir's cap: scratch files (dense weights, trial files) are megabytes, not a disk. */
export const SCRATCH_SIZE_LIMIT = '2Gi';

function resourceRequirements(request: RunRequest) {
  const {
    gpu,
    cpu = DEFAULT_WORKER_RESOURCES.cpu,
    memory = DEFAULT_WORKER_RESOURCES.memory,
  } = request.resources;
  const limits: Record<string, string> = { memory, 'ephemeral-storage': SCRATCH_SIZE_LIMIT };
  const requests: Record<string, string> = { cpu, memory };
  if (gpu > 0) limits['nvidia.com/gpu'] = String(gpu);
  return { limits, requests };
}

export function jobManifest(request: RunRequest, config: KubernetesConfig): V1Job {
  const name = runName(request.sweepName, request.trialKey, request.attempt);
  const labels: Record<string, string> = {
    ...config.labels,
    ...MANAGED_LABELS,
    [LABELS.sweepId]: request.sweepId,
    [LABELS.sweep]: request.sweepName,
    [LABELS.trialId]: request.trialId,
    [LABELS.trial]: request.trialKey,
    [LABELS.attempt]: String(request.attempt),
  };
  const jobLabels = config.queueName ? { ...labels, [LABELS.kueueQueue]: config.queueName } : labels;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: config.namespace,
      labels: jobLabels,
      annotations: { ...config.annotations },
    },
    spec: {
      // Retries are the controller's (a new Attempt, with backoff); the Job itself runs one pod,
      // except that a disrupted pod (eviction, preemption) is replaced without counting.
      backoffLimit: 0,
      activeDeadlineSeconds: config.activeDeadlineSeconds,
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished,
      // With Kueue, the Job starts suspended and Kueue un-suspends it when admitted.
      suspend: config.queueName ? true : undefined,
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          {
            action: 'FailJob',
            onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: [BAD_INPUT_EXIT_CODE] },
          },
        ],
      },
      template: {
        metadata: { labels, annotations: { ...config.annotations } },
        spec: {
          restartPolicy: 'Never',
          serviceAccountName: config.serviceAccountName,
          securityContext: POD_SECURITY,
          imagePullSecrets: config.imagePullSecrets.length
            ? config.imagePullSecrets.map((secret) => ({ name: secret }))
            : undefined,
          nodeSelector: Object.keys(config.nodeSelector).length ? { ...config.nodeSelector } : undefined,
          tolerations: config.tolerations.length ? config.tolerations.map((t) => ({ ...t })) : undefined,
          containers: [
            {
              name: CONTAINER_NAME,
              image: config.image,
              imagePullPolicy: config.imagePullPolicy,
              command: ['sh', '-c', TRIAL_FILE_SCRIPT, 'esweep-trial', ...config.command],
              env: containerEnv(request, name, config),
              envFrom: config.envFrom.length
                ? config.envFrom.map((source) =>
                    'secret' in source
                      ? { secretRef: { name: source.secret } }
                      : { configMapRef: { name: source.configMap } },
                  )
                : undefined,
              resources: resourceRequirements(request),
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'scratch', mountPath: '/tmp' },
                ...(config.dataVolume
                  ? [{ name: 'data', mountPath: config.dataVolume.mountPath, readOnly: true }]
                  : []),
              ],
            },
          ],
          volumes: [
            { name: 'scratch', emptyDir: { sizeLimit: SCRATCH_SIZE_LIMIT } },
            ...(config.dataVolume
              ? [
                  {
                    name: 'data',
                    persistentVolumeClaim: { claimName: config.dataVolume.claimName, readOnly: true },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
}

/** JSON of a manifest without the fields left undefined (what the API server would store). */
export function plainManifest(job: V1Job): V1Job {
  return JSON.parse(JSON.stringify(job)) as V1Job;
}
