// The resource types the fake API server serves: the built-ins the project uses and whatever
// CustomResourceDefinitions register. A type says where it is served (group, versions, plural),
// how it behaves (scope, status subresource, default deletion propagation) and how it is validated.
import { validateCrd } from './crd.ts';
import type { Cause, KubeObject } from './store.ts';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

export interface ResourceType {
  /** Key of its objects in the store: the plural for built-ins, `plural.group` (the CRD's name) for custom ones. */
  key: string;
  /** '' for the core group. */
  group: string;
  /** Served versions, the storage version first. */
  versions: string[];
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** PUT/PATCH of the object ignore `status`; `/status` ignores everything else. */
  statusSubresource: boolean;
  /** What DELETE does to dependents when the request names no propagationPolicy. */
  defaultPropagation: 'Orphan' | 'Background';
  /** Custom resources: PUT must carry the resourceVersion it replaces. */
  requireResourceVersionOnUpdate?: boolean;
  printerColumns?: PrinterColumn[];
  /** Problems of `object` as served at `version` (empty: valid); may also prune it in place. */
  validate?: (object: KubeObject, version: string) => Cause[];
  /**
   * Dotted paths of its metav1.MicroTime fields: the API server decodes them with exactly six
   * fractional digits and refuses the request (400) otherwise, e.g. JavaScript's `toISOString()`.
   */
  microTimeFields?: string[];
  /** Set for custom resources: the CRD that registered the type. */
  definedBy?: string;
}

export const apiVersionOf = (type: ResourceType, version = type.versions[0]) =>
  type.group ? `${type.group}/${version}` : version;

/** `jobs.batch`, `pods`: how the API names a resource in its messages. */
export const qualifiedName = (type: ResourceType) =>
  type.group ? `${type.resource}.${type.group}` : type.resource;

/** `Job.batch`, `Pod`: how the API names a kind in Invalid messages. */
export const qualifiedKind = (type: ResourceType) => (type.group ? `${type.kind}.${type.group}` : type.kind);

const builtin = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  extra: Partial<ResourceType> = {},
): ResourceType => ({
  key: resource,
  group,
  versions: [version],
  resource,
  singular: kind.toLowerCase(),
  kind,
  namespaced: true,
  statusSubresource: false,
  defaultPropagation: 'Background',
  ...extra,
});

export const BUILTIN_TYPES: ResourceType[] = [
  builtin('', 'v1', 'pods', 'Pod', { statusSubresource: true, shortNames: ['po'] }),
  builtin('', 'v1', 'secrets', 'Secret'),
  builtin('', 'v1', 'configmaps', 'ConfigMap', { shortNames: ['cm'] }),
  builtin('', 'v1', 'events', 'Event', {
    shortNames: ['ev'],
    microTimeFields: ['eventTime', 'series.lastObservedTime'],
  }),
  // batch/v1 Jobs orphan their pods unless told otherwise, for compatibility with old clients.
  builtin('batch', 'v1', 'jobs', 'Job', { statusSubresource: true, defaultPropagation: 'Orphan' }),
  builtin('coordination.k8s.io', 'v1', 'leases', 'Lease', {
    microTimeFields: ['spec.acquireTime', 'spec.renewTime'],
  }),
  builtin('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', {
    namespaced: false,
    statusSubresource: true,
    shortNames: ['crd', 'crds'],
    validate: validateCrd,
  }),
];

export class Registry {
  private readonly types = new Map<string, ResourceType>();

  constructor(types: ResourceType[] = BUILTIN_TYPES) {
    for (const type of types) this.register(type);
  }

  register(type: ResourceType): void {
    this.types.set(type.key, type);
  }

  unregister(key: string): void {
    this.types.delete(key);
  }

  byKey(key: string): ResourceType | undefined {
    return this.types.get(key);
  }

  /** The type served at `/apis/{group}/{version}/{resource}` (`group` '' for `/api/v1`). */
  find(group: string, version: string, resource: string): ResourceType | undefined {
    for (const type of this.types.values()) {
      if (type.group === group && type.resource === resource && type.versions.includes(version)) return type;
    }
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }
}
