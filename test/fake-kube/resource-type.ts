// What the fake API server knows of a served resource type, and how the API names it in messages.
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
  /**
   * Problems of `object` as served at `version` (empty: valid); may also prune it in place. `part`
   * says which write it is: the main resource's, whose status the server keeps as it was (and does
   * not check again), or the status subresource's.
   */
  validate?: (object: KubeObject, version: string, part: 'main' | 'status') => Cause[];
  /** Changes the server refuses on update (immutable fields). */
  validateUpdate?: (next: KubeObject, old: KubeObject) => Cause[];
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
