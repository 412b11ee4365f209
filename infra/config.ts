// Per-stack settings of the Pulumi program (`pulumi config set --path …`), validated with zod.
import { z } from 'zod';
import { parseInput, stringOf } from '../common/validation.ts';
import { dnsLabel, toleration } from '../orchestrator/scheduler/kubernetes/config.ts';

const quantity = stringOf('a Kubernetes quantity', /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/);

const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});
export type Resources = z.infer<typeof resources>;

const sized = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string) =>
  resources.default({ requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } });

// An absent section parses as `{}` (`.prefault({})`), so its fields' own defaults fill it in.
export const infraConfigSchema = z.strictObject({
  namespace: dnsLabel.default('esweep'),
  images: z.strictObject({
    /** CUDA + tfjs-node-gpu (infra/Dockerfile, target worker). */
    worker: z.string().min(1),
    /** Controller and ingester (infra/Dockerfile, target orchestrator). */
    orchestrator: z.string().min(1),
    postgres: z.string().default('postgres:16.4-alpine'),
    nats: z.string().default('nats:2.10.22-alpine'),
    grafana: z.string().default('grafana/grafana:11.6.0'),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  }),
  storage: z
    .strictObject({
      /** Storage class of the PVCs (absent = the cluster's default). */
      className: z.string().optional(),
      nats: quantity.default('10Gi'),
      postgres: quantity.default('20Gi'),
      /** An existing PVC with the datasets (cifar10/100, tinyimagenet), mounted read-only into workers. */
      datasetsClaim: dnsLabel.optional(),
    })
    .prefault({}),
  gpu: z
    .strictObject({
      nodeSelector: z.record(z.string(), z.string()).default({ 'nvidia.com/gpu.present': 'true' }),
      tolerations: z
        .array(toleration)
        .default([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]),
    })
    .prefault({}),
  /** Kueue admission: a ClusterQueue with an nvidia.com/gpu quota and the namespace's LocalQueue. */
  kueue: z
    .strictObject({
      enabled: z.boolean().default(false),
      clusterQueue: dnsLabel.default('esweep'),
      localQueue: dnsLabel.default('esweep'),
      resourceFlavor: dnsLabel.default('esweep-gpu'),
      gpus: z.number().int().positive().default(8),
      cpu: quantity.default('64'),
      memory: quantity.default('256Gi'),
    })
    .prefault({}),
  /**
   * NATS operator mode (docs/security.md): the Secret made from `esweep nats-bootstrap`'s files and
   * the account's public key. Absent: one shared user with a generated password.
   */
  nats: z
    .strictObject({
      operator: z
        .strictObject({
          secret: dnsLabel.default('esweep-nats-operator'),
          accountPublicKey: stringOf('an account public key (A…, 56 characters)', /^A[A-Z2-7]{55}$/),
        })
        .optional(),
    })
    .prefault({}),
  /** Where the Kubernetes API server is, for the orchestrator's egress NetworkPolicy. */
  apiServer: z
    .strictObject({
      cidrs: z
        .array(stringOf('a CIDR', /^[0-9a-f.:]+\/\d+$/i))
        .min(1)
        .default(['0.0.0.0/0']),
      ports: z.array(z.number().int().min(1).max(65535)).min(1).default([443, 6443]),
    })
    .prefault({}),
  /** The namespace of the Prometheus that scrapes the controller and of the proxy in front of Grafana. */
  monitoring: z.strictObject({ namespace: z.string().min(1).default('monitoring') }).prefault({}),
  grafana: z
    .strictObject({ serviceType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP') })
    .prefault({}),
  resources: z
    .strictObject({
      controller: sized('100m', '256Mi', '1', '512Mi'),
      ingester: sized('200m', '256Mi', '2', '1Gi'),
      postgres: sized('500m', '1Gi', '2', '4Gi'),
      nats: sized('200m', '256Mi', '1', '1Gi'),
      grafana: sized('100m', '256Mi', '1', '512Mi'),
    })
    .prefault({}),
});

export type InfraConfig = z.output<typeof infraConfigSchema>;
export type InfraConfigInput = z.input<typeof infraConfigSchema>;

/** The stack's `settings` object (absent = all defaults); a problem is an InputError naming the field. */
export function parseInfraConfig(document: unknown): InfraConfig {
  return parseInput(infraConfigSchema, document ?? {}, 'esweep stack config');
}
