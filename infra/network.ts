// NetworkPolicies: everything in the namespace is denied by default; then workers reach NATS only,
// the orchestrator NATS, Postgres and the API server, Grafana Postgres; NATS and Postgres accept only
// those clients. Every pod may resolve names (DNS).
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { MANAGED_LABELS } from '../orchestrator/scheduler/kubernetes/manifest.ts';
import type { InfraConfig } from './config.ts';
import { GRAFANA_PORT } from './grafana.ts';
import { NATS_PORT } from './nats.ts';
import { METRICS_PORT } from './orchestrator.ts';
import { POSTGRES_PORT } from './postgres.ts';
import { labelsFor } from './security.ts';

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

const pods = (matchLabels: Record<string, string>): Peer => ({ podSelector: { matchLabels } });
const tcp = (port: number) => ({ protocol: 'TCP', port });
const to = (peer: Peer, port: number) => ({ to: [peer], ports: [tcp(port)] });
const from = (peers: Peer[], port: number) => ({ from: peers, ports: [tcp(port)] });

const NATS = pods(labelsFor('nats'));
const POSTGRES = pods(labelsFor('postgres'));
const ORCHESTRATOR = pods(labelsFor('orchestrator'));
const INGESTER = pods(labelsFor('ingester'));
const GRAFANA = pods(labelsFor('grafana'));
const WORKERS = pods(MANAGED_LABELS);
/** Pods of one other namespace (its name label is set by Kubernetes itself). */
const namespaceNamed = (name: string): Peer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});

export function createNetworkPolicies(config: InfraConfig, namespace: pulumi.Input<string>) {
  const policy = (
    name: string,
    selector: Record<string, string>,
    rules: { ingress?: ReturnType<typeof from>[]; egress?: ReturnType<typeof to>[] },
  ) =>
    new k8s.networking.v1.NetworkPolicy(name, {
      metadata: { name: `esweep-${name}`, namespace },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: [...(rules.ingress ? ['Ingress'] : []), ...(rules.egress ? ['Egress'] : [])],
        ingress: rules.ingress,
        egress: rules.egress,
      },
    });
  const defaultDeny = new k8s.networking.v1.NetworkPolicy('default-deny', {
    metadata: { name: 'esweep-default-deny', namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  });
  const dns = new k8s.networking.v1.NetworkPolicy('dns', {
    metadata: { name: 'esweep-dns', namespace },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  });
  const monitoring = namespaceNamed(config.monitoring.namespace);
  const apiServer = {
    to: config.apiServer.cidrs.map((cidr) => ({ ipBlock: { cidr } })),
    ports: config.apiServer.ports.map(tcp),
  };
  return {
    defaultDeny,
    dns,
    workers: policy('workers', MANAGED_LABELS, { egress: [to(NATS, NATS_PORT)] }),
    orchestrator: policy('orchestrator', labelsFor('orchestrator'), {
      ingress: [from([monitoring], METRICS_PORT)],
      egress: [to(POSTGRES, POSTGRES_PORT), apiServer],
    }),
    ingester: policy('ingester', labelsFor('ingester'), {
      egress: [to(NATS, NATS_PORT), to(POSTGRES, POSTGRES_PORT)],
    }),
    grafana: policy('grafana', labelsFor('grafana'), {
      ingress: [from([monitoring], GRAFANA_PORT)],
      egress: [to(POSTGRES, POSTGRES_PORT)],
    }),
    nats: policy('nats', labelsFor('nats'), { ingress: [from([WORKERS, INGESTER], NATS_PORT)] }),
    postgres: policy('postgres', labelsFor('postgres'), {
      ingress: [from([ORCHESTRATOR, INGESTER, GRAFANA], POSTGRES_PORT)],
    }),
  };
}
