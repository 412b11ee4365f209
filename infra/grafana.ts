// Grafana with the results database as a provisioned data source (read-only role) and the esweep
// dashboards (dashboards/, built at deploy time) mounted from a ConfigMap.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { stringify } from 'yaml';
import { dashboardFiles } from '../dashboards/index.ts';
import { POSTGRES_DATASOURCE_TYPE } from '../dashboards/sql.ts';
import type { InfraConfig } from './config.ts';
import { POSTGRES_NAME, POSTGRES_PORT } from './postgres.ts';
import { DATABASE, fromSecret, READER_ROLE, SECRET_NAMES } from './secrets.ts';
import { containerSecurity, labelsFor, scratch } from './security.ts';
import { singlePod } from './workload.ts';

export const GRAFANA_NAME = 'esweep-grafana';
export const GRAFANA_PORT = 3000;
export const DASHBOARDS_CONFIGMAP = 'esweep-dashboards';
const UID = 472;

/** Grafana replaces `$READER_PASSWORD` in provisioning files from its environment. */
export const datasourcesYaml = () =>
  stringify({
    apiVersion: 1,
    datasources: [
      {
        name: 'esweep',
        uid: 'esweep-postgres',
        type: POSTGRES_DATASOURCE_TYPE,
        access: 'proxy',
        url: `${POSTGRES_NAME}:${POSTGRES_PORT}`,
        user: READER_ROLE,
        isDefault: true,
        editable: false,
        jsonData: { database: DATABASE, sslmode: 'disable', postgresVersion: 1600, maxOpenConns: 10 },
        secureJsonData: { password: '$READER_PASSWORD' },
      },
    ],
  });

const providersYaml = () =>
  stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'esweep',
        folder: 'esweep',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: '/var/lib/grafana-dashboards/esweep' },
      },
    ],
  });

export function createGrafana(config: InfraConfig, namespace: pulumi.Input<string>) {
  const labels = labelsFor('grafana');
  const dashboards = new k8s.core.v1.ConfigMap('dashboards', {
    metadata: { name: DASHBOARDS_CONFIGMAP, namespace },
    data: dashboardFiles(),
  });
  const provisioning = new k8s.core.v1.ConfigMap('grafana-provisioning', {
    metadata: { name: 'esweep-grafana-provisioning', namespace },
    data: { 'datasources.yaml': datasourcesYaml(), 'dashboards.yaml': providersYaml() },
  });
  const data = scratch('data', '/var/lib/grafana');
  const tmp = scratch('tmp', '/tmp');
  const deployment = new k8s.apps.v1.Deployment('grafana', {
    metadata: { name: GRAFANA_NAME, namespace, labels },
    spec: {
      ...singlePod(labels, UID, {
        containers: [
          {
            name: 'grafana',
            image: config.images.grafana,
            imagePullPolicy: config.images.pullPolicy,
            env: [
              { name: 'GF_PATHS_PROVISIONING', value: '/etc/grafana/provisioning' },
              { name: 'GF_AUTH_ANONYMOUS_ENABLED', value: 'false' },
              { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
              { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
              fromSecret('GF_SECURITY_ADMIN_PASSWORD', SECRET_NAMES.grafana, 'admin-password'),
              fromSecret('READER_PASSWORD', SECRET_NAMES.grafana, 'reader-password'),
            ],
            ports: [{ name: 'http', containerPort: GRAFANA_PORT }],
            securityContext: containerSecurity(UID),
            resources: config.resources.grafana,
            volumeMounts: [
              data.mount,
              tmp.mount,
              {
                name: 'provisioning',
                mountPath: '/etc/grafana/provisioning/datasources/esweep.yaml',
                subPath: 'datasources.yaml',
                readOnly: true,
              },
              {
                name: 'provisioning',
                mountPath: '/etc/grafana/provisioning/dashboards/esweep.yaml',
                subPath: 'dashboards.yaml',
                readOnly: true,
              },
              { name: 'dashboards', mountPath: '/var/lib/grafana-dashboards/esweep', readOnly: true },
            ],
            livenessProbe: { httpGet: { path: '/api/health', port: GRAFANA_PORT }, periodSeconds: 10 },
            readinessProbe: { httpGet: { path: '/api/health', port: GRAFANA_PORT }, periodSeconds: 5 },
          },
        ],
        volumes: [
          data.volume,
          tmp.volume,
          { name: 'provisioning', configMap: { name: provisioning.metadata.name } },
          { name: 'dashboards', configMap: { name: dashboards.metadata.name } },
        ],
      }),
    },
  });
  const service = new k8s.core.v1.Service('grafana', {
    metadata: { name: GRAFANA_NAME, namespace, labels },
    spec: {
      type: config.grafana.serviceType,
      selector: labels,
      ports: [{ name: 'http', port: 80, targetPort: GRAFANA_PORT }],
    },
  });
  return { dashboards, provisioning, deployment, service };
}
