// Cluster-side settings of the kubernetes backend: where Jobs go and what their pods look like.
// Validated with zod when read; secrets are referenced (secretKeyRef / envFrom), never inlined.
import { z } from 'zod';
import { parseInput, parseYamlText, readInputText, stringOf } from '../../../common/validation.ts';

export const dnsLabel = stringOf('a DNS label', /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const dnsName = stringOf('a DNS name', /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/).max(253);
const envName = stringOf('an environment variable name', /^[A-Za-z_][A-Za-z0-9_.-]*$/);

/** Names that look like credentials must come from a Secret, not from this file. */
const SECRET_LOOKING = /(PASSWORD|PASSWD|TOKEN|SECRET|CREDENTIAL|API_?KEY|PRIVATE)/i;

export const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

export const kubernetesConfigSchema = z.strictObject({
  /** API server URL; absent = the usual kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster). */
  server: z.url().optional(),
  /** Needed for a plain-http API server (tests) or a self-signed one. */
  skipTLSVerify: z.boolean().default(false),
  namespace: dnsLabel.default('default'),
  image: z.string().min(1, { error: 'is required (the worker image)' }),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  imagePullSecrets: z.array(dnsName).default([]),
  serviceAccountName: dnsName.optional(),
  nodeSelector: z.record(z.string(), z.string()).default({}),
  tolerations: z.array(toleration).default([]),
  /** Kueue LocalQueue: when set, Jobs carry `kueue.x-k8s.io/queue-name` and Kueue admits them. */
  queueName: dnsName.optional(),
  /** The worker command; the trial file argument (`--trial FILE`) is appended. */
  command: z.array(z.string().min(1)).min(1).default(['esweep', 'train']),
  /** Plain settings for the worker (e.g. NATS_URL); credentials go in secretEnv or envFrom. */
  env: z
    .record(envName, z.string())
    .default({})
    .superRefine((env, ctx) => {
      for (const name of Object.keys(env)) {
        if (SECRET_LOOKING.test(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `looks like a credential; reference a Secret with secretEnv instead of an inline value`,
          });
        }
      }
    }),
  /** Environment variables read from Secret keys. */
  secretEnv: z.array(z.strictObject({ name: envName, secret: dnsName, key: z.string().min(1) })).default([]),
  /** Whole Secrets / ConfigMaps as environment. */
  envFrom: z
    .array(z.union([z.strictObject({ secret: dnsName }), z.strictObject({ configMap: dnsName })]))
    .default([]),
  /** A volume with the datasets (docs/operations.md: a PVC); mounted read-only and named by ESWEEP_DATA_DIR. */
  dataVolume: z
    .strictObject({ claimName: dnsName, mountPath: z.string().startsWith('/').default('/data') })
    .optional(),
  /** Kill a trial that runs longer than this. */
  activeDeadlineSeconds: z.number().int().positive().default(86_400),
  /** Finished Jobs are garbage-collected after this (results are in the database by then). */
  ttlSecondsAfterFinished: z.number().int().nonnegative().default(3_600),
  /**
   * A Job whose pod cannot start for this long (Unschedulable, ImagePullBackOff, ErrImagePull,
   * CrashLoopBackOff, CreateContainerConfigError…) fails its trial with that reason, without a retry.
   */
  stuckPodTimeoutSeconds: z.number().int().positive().default(300),
  /** Extra labels and annotations for every Job and pod. */
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});

export type KubernetesConfig = z.output<typeof kubernetesConfigSchema>;
export type KubernetesConfigInput = z.input<typeof kubernetesConfigSchema>;

export function parseKubernetesConfig(document: unknown, source = 'kubernetes config'): KubernetesConfig {
  return parseInput(kubernetesConfigSchema, document ?? {}, source);
}

/** Reads the backend settings from a YAML or JSON file. */
export async function loadKubernetesConfig(path: string): Promise<KubernetesConfig> {
  const text = await readInputText(path, 'kubernetes config');
  return parseKubernetesConfig(parseYamlText(text, path), path);
}
