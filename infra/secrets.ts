// Generated credentials, stored only in Secrets: containers read them through secretKeyRef, never as
// inline values. The passwords are alphanumeric so they can sit in URLs unescaped.
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

const password = (name: string) => new random.RandomPassword(name, { length: 32, special: false }).result;

export const NATS_USER = 'esweep';
export const DATABASE = 'esweep';
/** Owner of the esweep database and its schema: only migrations connect as it. */
export const APP_ROLE = 'esweep';
/** What the controller and ingester connect as: rows read and written, the schema left alone. */
export const RUNTIME_ROLE = 'esweep_runtime';
/** Grafana's read-only role. */
export const READER_ROLE = 'grafana_reader';

export const SECRET_NAMES = { nats: 'esweep-nats', postgres: 'esweep-postgres', grafana: 'esweep-grafana' };

export interface StackSecrets {
  nats: k8s.core.v1.Secret;
  postgres: k8s.core.v1.Secret;
  grafana: k8s.core.v1.Secret;
}

export function createSecrets(
  namespace: pulumi.Input<string>,
  /** `host:port` of each service, as clients reach it. */
  addresses: { nats: string; postgres: string },
): StackSecrets {
  const nats = password('nats-password');
  const admin = password('postgres-admin-password');
  const app = password('postgres-app-password');
  const reader = password('postgres-reader-password');
  const runtime = password('postgres-runtime-password');
  const grafanaAdmin = password('grafana-admin-password');
  return {
    nats: new k8s.core.v1.Secret('nats-credentials', {
      metadata: { name: SECRET_NAMES.nats, namespace },
      stringData: {
        password: nats,
        url: pulumi.interpolate`nats://${NATS_USER}:${nats}@${addresses.nats}`,
      },
    }),
    postgres: new k8s.core.v1.Secret('postgres-credentials', {
      metadata: { name: SECRET_NAMES.postgres, namespace },
      stringData: {
        'admin-password': admin,
        'app-password': app,
        'reader-password': reader,
        'runtime-password': runtime,
        'migration-url': pulumi.interpolate`postgresql://${APP_ROLE}:${app}@${addresses.postgres}/${DATABASE}`,
        'database-url': pulumi.interpolate`postgresql://${RUNTIME_ROLE}:${runtime}@${addresses.postgres}/${DATABASE}`,
      },
    }),
    grafana: new k8s.core.v1.Secret('grafana-credentials', {
      metadata: { name: SECRET_NAMES.grafana, namespace },
      stringData: { 'admin-password': grafanaAdmin, 'reader-password': reader },
    }),
  };
}

export const fromSecret = (name: string, secret: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
