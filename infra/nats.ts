// NATS with JetStream on a PVC; clients authenticate as one user whose password is in the Secret,
// or, in operator mode, with per-identity JWTs (nats-operator.ts, docs/security.md).
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.ts';
import { OPERATOR_FILES, operatorMode } from './nats-operator.ts';
import { fromSecret, NATS_USER, SECRET_NAMES } from './secrets.ts';
import { containerSecurity, labelsFor } from './security.ts';
import { dataClaimTemplate, singlePod } from './workload.ts';

export const NATS_NAME = 'esweep-nats';
export const NATS_PORT = 4222;
const MONITOR_PORT = 8222;
const UID = 1000;

/**
 * `$NATS_PASSWORD` is resolved by nats-server from its environment (filled from the Secret); in
 * operator mode the trust chain is included instead (an include is relative to this file).
 */
const natsConf = (storeLimit: string, operator: boolean) => `port: ${NATS_PORT}
http_port: ${MONITOR_PORT}
jetstream {
  store_dir: /data/jetstream
  max_file_store: ${storeLimit.replace(/i$/, '')}
}
${
  operator
    ? `include "${OPERATOR_FILES.auth}"`
    : `authorization {
  user: ${NATS_USER}
  password: $NATS_PASSWORD
}`
}
`;

export function createNats(config: InfraConfig, namespace: pulumi.Input<string>) {
  const labels = labelsFor('nats');
  const operator = operatorMode(config);
  const conf = new k8s.core.v1.ConfigMap('nats-config', {
    metadata: { name: 'esweep-nats-config', namespace },
    data: { 'nats.conf': natsConf(config.storage.nats, operator !== undefined) },
  });
  // Operator mode: the Secret's auth.conf beside nats.conf, in one directory.
  const configVolume = operator
    ? {
        name: 'config',
        projected: {
          sources: [
            { configMap: { name: conf.metadata.name } },
            {
              secret: {
                name: operator.secret,
                items: [{ key: OPERATOR_FILES.auth, path: OPERATOR_FILES.auth }],
              },
            },
          ],
        },
      }
    : { name: 'config', configMap: { name: conf.metadata.name } };
  const service = new k8s.core.v1.Service('nats', {
    metadata: { name: NATS_NAME, namespace, labels },
    spec: { selector: labels, ports: [{ name: 'client', port: NATS_PORT, targetPort: NATS_PORT }] },
  });
  const statefulSet = new k8s.apps.v1.StatefulSet('nats', {
    metadata: { name: NATS_NAME, namespace, labels },
    spec: {
      serviceName: NATS_NAME,
      ...singlePod(labels, UID, {
        containers: [
          {
            name: 'nats',
            image: config.images.nats,
            imagePullPolicy: config.images.pullPolicy,
            args: ['-c', '/etc/nats/nats.conf'],
            env: operator ? [] : [fromSecret('NATS_PASSWORD', SECRET_NAMES.nats, 'password')],
            ports: [
              { name: 'client', containerPort: NATS_PORT },
              { name: 'monitor', containerPort: MONITOR_PORT },
            ],
            securityContext: containerSecurity(UID),
            resources: config.resources.nats,
            volumeMounts: [
              { name: 'config', mountPath: '/etc/nats', readOnly: true },
              { name: 'data', mountPath: '/data' },
            ],
            livenessProbe: { httpGet: { path: '/healthz', port: MONITOR_PORT }, periodSeconds: 10 },
            readinessProbe: {
              httpGet: { path: '/healthz?js-enabled-only=true', port: MONITOR_PORT },
              periodSeconds: 5,
            },
          },
        ],
        volumes: [configVolume],
      }),
      volumeClaimTemplates: [dataClaimTemplate(config.storage.className, config.storage.nats)],
    },
  });
  return { conf, service, statefulSet };
}
