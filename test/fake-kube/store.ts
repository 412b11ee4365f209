// The fake API server's storage: objects by kind/namespace/name, one resourceVersion counter for
// everything (like etcd), a bounded history of changes for resuming watches, and live watchers.
import { randomUUID } from 'node:crypto';

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
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
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

/** A request the API refuses: it answers with a Status of this code and reason. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const clone = <T>(value: T): T => structuredClone(value);
/** Changes kept for resuming watches before they answer 410 Gone. */
const HISTORY_LIMIT = 50_000;

export class Store {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: Change[] = [];
  /** Changes after this resourceVersion are still in the history. */
  private compactedThrough = 1;
  private readonly listeners = new Set<Listener>();

  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(resource: string): Map<string, KubeObject> {
    const bucket = this.objects.get(resource) ?? new Map<string, KubeObject>();
    this.objects.set(resource, bucket);
    return bucket;
  }

  private record(resource: string, type: WatchType, object: KubeObject): void {
    const change = { resource, type, object: clone(object), rv: this.rv };
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) {
      const drop = this.history.length - HISTORY_LIMIT;
      this.compactedThrough = this.history[drop - 1].rv;
      this.history = this.history.slice(drop);
    }
    for (const listener of this.listeners) listener(change);
  }

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const object = this.bucket(resource).get(`${namespace}/${name}`);
    return object && clone(object);
  }

  list(resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const object of this.bucket(resource).values()) {
      if (namespace === undefined || object.metadata.namespace === namespace) out.push(clone(object));
    }
    return out;
  }

  create(resource: string, namespace: string, object: KubeObject): KubeObject {
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(meta.name)) {
      throw new ApiError(422, 'Invalid', `metadata.name: Invalid value: ${JSON.stringify(meta.name ?? '')}`);
    }
    const id = `${namespace}/${meta.name}`;
    if (this.bucket(resource).has(id)) {
      throw new ApiError(409, 'AlreadyExists', `${resource} "${meta.name}" already exists`);
    }
    this.rv++;
    const stored: KubeObject = {
      ...clone(object),
      metadata: {
        ...clone(meta),
        namespace,
        uid: randomUUID(),
        resourceVersion: String(this.rv),
        generation: 1,
        creationTimestamp: new Date().toISOString(),
      },
    };
    this.bucket(resource).set(id, stored);
    this.record(resource, 'ADDED', stored);
    return clone(stored);
  }

  /** Applies `change` to the stored object (a status or spec update); returns the new state. */
  update(
    resource: string,
    namespace: string,
    name: string,
    change: (object: KubeObject) => void,
  ): KubeObject {
    const stored = this.bucket(resource).get(`${namespace}/${name}`);
    if (!stored) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    change(stored);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    this.record(resource, 'MODIFIED', stored);
    return clone(stored);
  }

  delete(resource: string, namespace: string, name: string): KubeObject {
    const id = `${namespace}/${name}`;
    const stored = this.bucket(resource).get(id);
    if (!stored) throw new ApiError(404, 'NotFound', `${resource} "${name}" not found`);
    this.bucket(resource).delete(id);
    this.rv++;
    stored.metadata.resourceVersion = String(this.rv);
    stored.metadata.deletionTimestamp = new Date().toISOString();
    this.record(resource, 'DELETED', stored);
    return clone(stored);
  }

  /**
   * Changes of `resource` after `since`, or null when some of them were compacted away (the watch
   * must answer 410 Gone and the client re-list).
   */
  changesSince(resource: string, since: number): Change[] | null {
    if (since < this.compactedThrough) return null;
    return this.history.filter((c) => c.rv > since && c.resource === resource);
  }

  /** Forgets the history (like etcd compaction): every resourceVersion before now is too old. */
  compact(): void {
    this.history = [];
    this.compactedThrough = this.rv;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
