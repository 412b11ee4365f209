// Optional Kueue admission: a ResourceFlavor for the GPU nodes, a ClusterQueue with an nvidia.com/gpu
// quota (plus cpu and memory, which Kueue needs covered for every requested resource) and the
// namespace's LocalQueue that the controller's Jobs name. Requires Kueue installed in the cluster.
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import type { InfraConfig } from './config.ts';

const API = 'kueue.x-k8s.io/v1beta1';

export function createKueue(config: InfraConfig, namespace: pulumi.Input<string>) {
  const { kueue, gpu } = config;
  const flavor = new k8s.apiextensions.CustomResource('kueue-flavor', {
    apiVersion: API,
    kind: 'ResourceFlavor',
    metadata: { name: kueue.resourceFlavor },
    spec: { nodeLabels: gpu.nodeSelector, tolerations: gpu.tolerations },
  });
  const clusterQueue = new k8s.apiextensions.CustomResource('kueue-cluster-queue', {
    apiVersion: API,
    kind: 'ClusterQueue',
    metadata: { name: kueue.clusterQueue },
    spec: {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      resourceGroups: [
        {
          coveredResources: ['cpu', 'memory', 'nvidia.com/gpu'],
          flavors: [
            {
              name: flavor.metadata.name,
              resources: [
                { name: 'cpu', nominalQuota: kueue.cpu },
                { name: 'memory', nominalQuota: kueue.memory },
                { name: 'nvidia.com/gpu', nominalQuota: kueue.gpus },
              ],
            },
          ],
        },
      ],
    },
  });
  const localQueue = new k8s.apiextensions.CustomResource('kueue-local-queue', {
    apiVersion: API,
    kind: 'LocalQueue',
    metadata: { name: kueue.localQueue, namespace },
    spec: { clusterQueue: clusterQueue.metadata.name },
  });
  return { flavor, clusterQueue, localQueue };
}
