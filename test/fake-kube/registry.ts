// The resource types the fake API server serves: the built-ins the project uses and whatever
// CustomResourceDefinitions register. A type says where it is served (group, versions, plural),
// how it behaves (scope, status subresource, default deletion propagation) and how it is validated.
import { validateCrd } from './crd.ts';
import type { ResourceType } from './resource-type.ts';
import { builtinValidator, updateCauses } from './validation.ts';

const builtin = (
  group: string,
  version: string,
  resource: string,
  kind: string,
  extra: Partial<ResourceType> = {},
): ResourceType => {
  const schema = builtinValidator(group ? `${group}/${version}` : version, kind);
  const statusSubresource = extra.statusSubresource ?? false;
  return {
    key: resource,
    group,
    versions: [version],
    resource,
    singular: kind.toLowerCase(),
    kind,
    namespaced: true,
    statusSubresource,
    defaultPropagation: 'Background',
    // A status the server itself wrote (the fake kubelet's) is not checked again on a main write.
    validate: (object, _version, part) =>
      schema(statusSubresource && part === 'main' ? { ...object, status: undefined } : object),
    validateUpdate: updateCauses,
    ...extra,
  };
};

const crdType = builtin(
  'apiextensions.k8s.io',
  'v1',
  'customresourcedefinitions',
  'CustomResourceDefinition',
  {
    namespaced: false,
    statusSubresource: true,
    shortNames: ['crd', 'crds'],
  },
);
const crdSchema = crdType.validate!;

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
  {
    ...crdType,
    validate: (object, version, part) => [...crdSchema(object, version, part), ...validateCrd(object)],
  },
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
