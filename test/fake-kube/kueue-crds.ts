// CustomResourceDefinitions for the Kueue kinds the Pulumi program declares (kueue.x-k8s.io/v1beta1
// ResourceFlavor, ClusterQueue, LocalQueue), written for this fake from Kueue's v1beta1 API reference.
// PARTIAL: they check the fields the project sets (names, required fields, types, enums, quantity
// syntax) and keep every other field as is (x-kubernetes-preserve-unknown-fields); Kueue's own CRDs,
// installed in a real cluster, are the authority.
import type { KubeObject } from './store.ts';

const GROUP = 'kueue.x-k8s.io';
const VERSION = 'v1beta1';
const QUANTITY =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const NAME = {
  type: 'string',
  maxLength: 253,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
};
const quantity = { 'x-kubernetes-int-or-string': true, pattern: QUANTITY };
const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const toleration = {
  type: 'object',
  properties: {
    key: { type: 'string' },
    operator: { type: 'string', enum: ['Exists', 'Equal'] },
    value: { type: 'string' },
    effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
    tolerationSeconds: { type: 'integer', format: 'int64' },
  },
};

function crd(kind: string, plural: string, scope: 'Cluster' | 'Namespaced', spec: object): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec,
                status: open,
              },
            },
          },
        },
      ],
    },
  };
}

export const KUEUE_CRDS: KubeObject[] = [
  crd('ResourceFlavor', 'resourceflavors', 'Cluster', {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      nodeLabels: { ...stringMap, maxProperties: 8 },
      nodeTaints: {
        type: 'array',
        maxItems: 8,
        items: {
          type: 'object',
          required: ['key', 'effect'],
          properties: {
            key: { type: 'string' },
            value: { type: 'string' },
            effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
          },
        },
      },
      tolerations: { type: 'array', maxItems: 8, items: toleration },
      topologyName: { type: 'string' },
    },
  }),
  crd('ClusterQueue', 'clusterqueues', 'Cluster', {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      cohort: { type: 'string' },
      namespaceSelector: {
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        properties: { matchLabels: stringMap },
      },
      queueingStrategy: { type: 'string', enum: ['StrictFIFO', 'BestEffortFIFO'] },
      stopPolicy: { type: 'string', enum: ['None', 'Hold', 'HoldAndDrain'] },
      resourceGroups: {
        type: 'array',
        maxItems: 16,
        items: {
          type: 'object',
          required: ['coveredResources', 'flavors'],
          properties: {
            coveredResources: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string' } },
            flavors: {
              type: 'array',
              minItems: 1,
              maxItems: 16,
              items: {
                type: 'object',
                required: ['name', 'resources'],
                properties: {
                  name: NAME,
                  resources: {
                    type: 'array',
                    minItems: 1,
                    maxItems: 16,
                    items: {
                      type: 'object',
                      required: ['name', 'nominalQuota'],
                      properties: {
                        name: { type: 'string' },
                        nominalQuota: quantity,
                        borrowingLimit: quantity,
                        lendingLimit: quantity,
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  }),
  crd('LocalQueue', 'localqueues', 'Namespaced', {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    properties: {
      clusterQueue: NAME,
      stopPolicy: { type: 'string', enum: ['None', 'Hold', 'HoldAndDrain'] },
    },
  }),
];
