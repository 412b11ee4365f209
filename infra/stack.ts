// The whole cluster side of esweep in one namespace (see infra/README.md).
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.ts';
import { createGrafana, GRAFANA_NAME } from './grafana.ts';
import { createKueue } from './kueue.ts';
import { createNats, NATS_NAME, NATS_PORT } from './nats.ts';
import { createNetworkPolicies } from './network.ts';
import { createOrchestrator } from './orchestrator.ts';
import { createPostgres, POSTGRES_NAME, POSTGRES_PORT } from './postgres.ts';
import { createSecrets } from './secrets.ts';
import { createSweepResource } from './sweep-resource.ts';

export function deploy(config: InfraConfig) {
  const ns = new k8s.core.v1.Namespace('namespace', {
    metadata: {
      name: config.namespace,
      // Pod Security Admission refuses any pod that is not `restricted` (non-root, no privilege
      // escalation, all capabilities dropped, a seccomp profile), whoever creates it.
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
    },
  });
  // Every namespaced child refers to the namespace through this output, so Pulumi creates it first.
  const namespace = ns.metadata.name;
  const parts = {
    secrets: createSecrets(namespace, {
      nats: `${NATS_NAME}:${NATS_PORT}`,
      postgres: `${POSTGRES_NAME}:${POSTGRES_PORT}`,
    }),
    nats: createNats(config, namespace),
    postgres: createPostgres(config, namespace),
    grafana: createGrafana(config, namespace),
    orchestrator: createOrchestrator(config, namespace),
    network: createNetworkPolicies(config, namespace),
    kueue: config.kueue.enabled ? createKueue(config, namespace) : null,
    sweeps: createSweepResource(namespace),
  };
  const resources: pulumi.CustomResource[] = [
    ns,
    ...Object.values(parts).flatMap((part) => (part ? Object.values(part) : [])),
  ];
  return {
    namespace: ns.metadata.name,
    grafanaService: GRAFANA_NAME,
    resources,
  };
}
