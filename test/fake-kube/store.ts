// The fake API server's storage: objects by resource/namespace/name, one resourceVersion counter for
// everything (like etcd), a bounded history of changes for resuming watches, and live watchers.
// Cluster-scoped objects live in namespace ''. Updates work on a copy that is committed only when the
// change function returns, so a change that throws (a conflict, an invalid object) leaves nothing behind.
import { randomUUID } from 'node:crypto';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    generateName?: string;
  };
  spec?: unknown;
  status?: unknown;
  /** Secrets (base64 values) and ConfigMaps. */
  data?: Record<string, string>;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  resource: string;
  type: WatchType;
  object: KubeObject;
  rv: number;
}

type Listener = (change: Change) => void;

/** One reason an object is invalid, as in a Status's `details.causes`. */
export interface Cause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: Cause[];
  retryAfterSeconds?: number;
}

/** A request the API refuses: it answers with a Status of this code, reason and details. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }
}

const clone = <T>(value: T): T => structuredClone(value);
/** Changes kept for resuming watches before they answer 410 Gone. */
const HISTORY_LIMIT = 50_000;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Everything but metadata and status: what `metadata.generation` counts changes of. */
function specOf(object: KubeObject): string {
  const {
    metadata: _m,
    status: _s,
    resourceVersion: _r,
    ...rest
  } = object as KubeObject & {
    resourceVersion?: unknown;
  };
  return JSON.stringify(rest);
}

interface Location {
  resource: string;
  namespace: string;
  name: string;
}

export class Store {
  /** `historyLimit`: changes kept for resuming watches (tests make it small). */
  constructor(private readonly historyLimit = HISTORY_LIMIT) {}

  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /**
   * Kept as JSON text: a one-byte string is far smaller than the object and costs the garbage
   * collector nothing to trace (the history holds tens of thousands of whole objects).
   */
  private history: { resource: string; type: WatchType; rv: number; json: string }[] = [];
  /** Index of the oldest change kept: dropping one is a step, not a copy of the whole history. */
  private head = 0;
  /** Changes after this resourceVersion are still in the history. */
  private compactedThrough = 1;
  private readonly listeners = new Set<Listener>();
  private readonly byUid = new Map<string, Location>();
  /** Owner uid → the objects whose ownerReferences name it (for garbage collection). */
  private readonly dependentsOf = new Map<string, Set<string>>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map<string, KubeObject>();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private record(resource: string, type: WatchType, object: KubeObject): void {
    const change = { resource, type, object: clone(object), rv: this.rv };
    this.history.push({ resource, type, rv: this.rv, json: JSON.stringify(object) });
    if (this.history.length - this.head > this.historyLimit) {
      this.compactedThrough = this.history[this.head].rv;
      this.head++;
      if (this.head >= this.historyLimit) {
        this.history = this.history.slice(this.head);
        this.head = 0;
      }
    }
    for (const listener of this.listeners) listener(change);
  }

  private index(resource: string, object: KubeObject, add: boolean): void {
    const { uid, namespace = '', name, ownerReferences = [] } = object.metadata;
    const key = JSON.stringify([resource, namespace, name]);
    if (uid) {
      if (add) this.byUid.set(uid, { resource, namespace, name });
      else this.byUid.delete(uid);
    }
    for (const owner of ownerReferences) {
      const set = this.dependentsOf.get(owner.uid) ?? new Set<string>();
      if (add) set.add(key);
      else set.delete(key);
      if (set.size) this.dependentsOf.set(owner.uid, set);
      else this.dependentsOf.delete(owner.uid);
    }
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const object = this.bucket(resource).get(`${namespace}/${name}`);
    return object && clone(object);
  }

  /** Whether an object with this uid is stored. */
  hasUid(uid: string): boolean {
    return this.byUid.has(uid);
  }

  /** The objects whose ownerReferences name `uid`. */
  dependents(uid: string): Location[] {
    return [...(this.dependentsOf.get(uid) ?? [])].map((key) => {
      const [resource, namespace, name] = JSON.parse(key) as [string, string, string];
      return { resource, namespace, name };
    });
  }

  /**
   * The stored objects themselves, not copies, for a caller that only reads them and is done before
   * it yields (serving a list page: copying every object for each page made a paged list cost
   * pages × objects copies).
   */
  *view(resource: string, namespace?: string): Iterable<Readonly<KubeObject>> {
    for (const object of this.bucket(resource).values())
      if (namespace === undefined || (object.metadata.namespace ?? '') === namespace) yield object;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const object of this.bucket(resource).values()) {
      if (namespace === undefined || (object.metadata.namespace ?? '') === namespace) out.push(clone(object));
    }
    return out;
  }

  create(resource: string, namespace: string, object: KubeObject): KubeObject {
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name || !DNS_SUBDOMAIN.test(meta.name)) {
      const value = JSON.stringify(meta.name ?? '');
      const message = meta.name
        ? `Invalid value: ${value}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`
        : 'Required value: name or generateName is required';
      throw new ApiError(422, 'Invalid', `metadata.name: ${message}`, {
        name: meta.name,
        causes: [
          {
            reason: meta.name ? 'FieldValueInvalid' : 'FieldValueRequired',
            message,
            field: 'metadata.name',
          },
        ],
      });
    }
    const id = `${namespace}/${meta.name}`;
    if (this.bucket(resource).has(id)) {
      throw new ApiError(409, 'AlreadyExists', `${resource} "${meta.name}" already exists`, {
        name: meta.name,
        kind: resource,
      });
    }
    this.rv++;
    const { deletionTimestamp: _d, ...kept } = clone(meta);
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...kept,
        ...(namespace ? { namespace } : {}),
        uid: randomUUID(),
        resourceVersion: String(this.rv),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    };
    if (!namespace) delete stored.metadata.namespace;
    this.bucket(resource).set(id, stored);
    this.index(resource, stored, true);
    this.record(resource, 'ADDED', stored);
    return clone(stored);
  }

  /**
   * Applies `change` to a copy of the stored object (it may mutate the copy or return a replacement)
   * and commits it; returns the new state. `metadata.generation` counts changes outside metadata and
   * status. An object being deleted whose last finalizer the change removed is deleted.
   */
  update(
    resource: string,
    namespace: string,
    name: string,
    change: (object: KubeObject) => unknown,
  ): KubeObject {
    const id = `${namespace}/${name}`;
    const stored = this.bucket(resource).get(id);
    if (!stored)
      throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
    const copy = clone(stored);
    const returned = change(copy);
    const next = typeof returned === 'object' && returned !== null ? (returned as KubeObject) : copy;
    next.metadata.generation = stored.metadata.generation ?? 1;
    if (specOf(next) !== specOf(stored)) next.metadata.generation++;
    this.rv++;
    next.metadata.resourceVersion = String(this.rv);
    this.index(resource, stored, false);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.bucket(resource).delete(id);
      this.record(resource, 'DELETED', next);
      return clone(next);
    }
    this.bucket(resource).set(id, next);
    this.index(resource, next, true);
    this.record(resource, 'MODIFIED', next);
    return clone(next);
  }

  /**
   * Deletes the object, or, while it has finalizers, marks it with a deletionTimestamp (a MODIFIED
   * event) and leaves it to the updates that remove them.
   */
  delete(resource: string, namespace: string, name: string): KubeObject {
    const id = `${namespace}/${name}`;
    const stored = this.bucket(resource).get(id);
    if (!stored)
      throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
    if (stored.metadata.finalizers?.length) {
      if (stored.metadata.deletionTimestamp) return clone(stored);
      return this.update(resource, namespace, name, (object) => {
        object.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      });
    }
    this.bucket(resource).delete(id);
    this.index(resource, stored, false);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    stored.metadata.deletionTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.record(resource, 'DELETED', stored);
    return clone(stored);
  }

  /** Removes every object of `resource` without events (a CRD deleted with its objects' storage). */
  drop(resource: string): void {
    for (const object of this.bucket(resource).values()) this.index(resource, object, false);
    this.objects.delete(resource);
  }

  /**
   * Changes of `resource` after `since`, or null when some of them were compacted away (the watch
   * must answer 410 Gone and the client re-list).
   */
  changesSince(resource: string, since: number): Change[] | null {
    if (since < this.compactedThrough) return null;
    const changes: Change[] = [];
    for (let k = this.head; k < this.history.length; k++) {
      const { json, ...change } = this.history[k];
      if (change.rv > since && change.resource === resource)
        changes.push({ ...change, object: JSON.parse(json) });
    }
    return changes;
  }

  /** Whether changes after `since` were compacted away (a list or watch from it must answer 410). */
  expired(since: number): boolean {
    return since < this.compactedThrough;
  }

  /** Forgets the history (like etcd compaction): every resourceVersion before now is too old. */
  compact(): void {
    this.history = [];
    this.head = 0;
    this.compactedThrough = this.rv;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
