// PostgreSQL as a StatefulSet on a PVC. The first start creates the application role (owner of the
// esweep database, which the orchestrator migrates) and a read-only role for Grafana that can read
// every table and view the application role creates, now or later.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.ts';
import { APP_ROLE, DATABASE, fromSecret, READER_ROLE, RUNTIME_ROLE, SECRET_NAMES } from './secrets.ts';
import { containerSecurity, labelsFor, scratch } from './security.ts';
import { dataClaimTemplate, singlePod } from './workload.ts';

export const POSTGRES_NAME = 'esweep-postgres';
export const POSTGRES_PORT = 5432;
/** The postgres user of the official image. */
const UID = 70;

/** Run by the image's entrypoint on an empty data directory only; passwords come from the env. */
export const ROLES_SCRIPT = `#!/bin/sh
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
  -v app_password="$APP_PASSWORD" -v reader_password="$READER_PASSWORD" \
  -v runtime_password="$RUNTIME_PASSWORD" <<'SQL'
CREATE ROLE ${APP_ROLE} LOGIN PASSWORD :'app_password';
ALTER DATABASE ${DATABASE} OWNER TO ${APP_ROLE};
ALTER SCHEMA public OWNER TO ${APP_ROLE};
CREATE ROLE ${READER_ROLE} LOGIN PASSWORD :'reader_password';
ALTER ROLE ${READER_ROLE} SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE ${DATABASE} TO ${READER_ROLE};
GRANT USAGE ON SCHEMA public TO ${READER_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${READER_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE ${APP_ROLE} IN SCHEMA public GRANT SELECT ON TABLES TO ${READER_ROLE};
CREATE ROLE ${RUNTIME_ROLE} LOGIN PASSWORD :'runtime_password';
GRANT CONNECT ON DATABASE ${DATABASE} TO ${RUNTIME_ROLE};
GRANT USAGE ON SCHEMA public TO ${RUNTIME_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE ${APP_ROLE} IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${RUNTIME_ROLE};
ALTER DEFAULT PRIVILEGES FOR ROLE ${APP_ROLE} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${RUNTIME_ROLE};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
`;

export function createPostgres(config: InfraConfig, namespace: pulumi.Input<string>) {
  const labels = labelsFor('postgres');
  const init = new k8s.core.v1.ConfigMap('postgres-init', {
    metadata: { name: 'esweep-postgres-init', namespace },
    data: { '10-roles.sh': ROLES_SCRIPT },
  });
  const service = new k8s.core.v1.Service('postgres', {
    metadata: { name: POSTGRES_NAME, namespace, labels },
    spec: { selector: labels, ports: [{ name: 'postgres', port: POSTGRES_PORT, targetPort: POSTGRES_PORT }] },
  });
  const run = scratch('run', '/var/run/postgresql');
  const tmp = scratch('tmp', '/tmp');
  const statefulSet = new k8s.apps.v1.StatefulSet('postgres', {
    metadata: { name: POSTGRES_NAME, namespace, labels },
    spec: {
      serviceName: POSTGRES_NAME,
      ...singlePod(labels, UID, {
        containers: [
          {
            name: 'postgres',
            image: config.images.postgres,
            imagePullPolicy: config.images.pullPolicy,
            env: [
              { name: 'POSTGRES_USER', value: 'postgres' },
              { name: 'POSTGRES_DB', value: DATABASE },
              { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
              fromSecret('POSTGRES_PASSWORD', SECRET_NAMES.postgres, 'admin-password'),
              fromSecret('APP_PASSWORD', SECRET_NAMES.postgres, 'app-password'),
              fromSecret('READER_PASSWORD', SECRET_NAMES.postgres, 'reader-password'),
              fromSecret('RUNTIME_PASSWORD', SECRET_NAMES.postgres, 'runtime-password'),
            ],
            ports: [{ name: 'postgres', containerPort: POSTGRES_PORT }],
            securityContext: containerSecurity(UID),
            resources: config.resources.postgres,
            volumeMounts: [
              { name: 'data', mountPath: '/var/lib/postgresql/data' },
              { name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
              run.mount,
              tmp.mount,
            ],
            livenessProbe: { exec: { command: ['pg_isready', '-U', 'postgres'] }, periodSeconds: 10 },
            readinessProbe: {
              exec: { command: ['pg_isready', '-U', 'postgres', '-d', DATABASE] },
              periodSeconds: 5,
            },
          },
        ],
        volumes: [
          { name: 'init', configMap: { name: init.metadata.name, defaultMode: 0o555 } },
          run.volume,
          tmp.volume,
        ],
      }),
      volumeClaimTemplates: [dataClaimTemplate(config.storage.className, config.storage.postgres)],
    },
  });
  return { init, service, statefulSet };
}
