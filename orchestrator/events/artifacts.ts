// Large trial outputs (masks, dense final weights as npz) live outside the events: in the JetStream
// object store bucket `esweep-artifacts` on the cluster, in `.esweep/artifacts/` in embedded mode.
// Events carry only their names (`artifacts: {masks: '<sweep>/<trial>/<attempt>/masks.npz'}`).
// The bucket forgets an object after its TTL (default 7 days): long enough for the pruned trials of
// a sweep to read their dense trial's weights, bounded so the store does not fill over weeks.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type ObjectStore, Objm, StorageType } from '@nats-io/obj';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { ensureStream } from './nats.ts';
import { listObjects, objectInfo, readObject } from './object-reader.ts';

export const ARTIFACT_BUCKET = 'esweep-artifacts';

/** What a dense trial stores for its magnitude/LAMP dependents (the only artifacts workers write). */
export const DENSE_WEIGHT_FILES = { initial: 'dense-initial.npz', final: 'dense-final.npz' } as const;

/** How long an artifact is kept by default: 7 days. */
export const DEFAULT_ARTIFACT_TTL_MS = 7 * 24 * 3600_000;

export interface BucketLimits {
  /** An object is deleted this long after it was stored (default 7 days; 0 = never). */
  ttlMs?: number;
  /** Bytes the bucket may hold (default: unlimited; a full bucket refuses new objects). */
  maxBytes?: number;
}

/**
 * Creates the bucket, or updates its limits where they differ (the ingester does this at start, so
 * the operator's settings win over a worker's defaults). Idempotent.
 */
export async function ensureArtifactBucket(
  nc: NatsConnection,
  bucket = ARTIFACT_BUCKET,
  limits: BucketLimits = {},
): Promise<void> {
  await new NatsArtifactStore(nc, bucket, limits).ready();
  await ensureStream(await jetstreamManager(nc), {
    name: `OBJ_${bucket}`,
    max_age: nanos(limits.ttlMs ?? DEFAULT_ARTIFACT_TTL_MS),
    max_bytes: limits.maxBytes ?? -1,
  });
}

export interface ArtifactInfo {
  name: string;
  size: number;
  /** `SHA-256=<base64url>` as the object store reports it. */
  digest: string;
}

export interface ArtifactStore {
  put(name: string, data: Uint8Array): Promise<ArtifactInfo>;
  /** null when there is no such artifact. */
  get(name: string): Promise<Uint8Array | null>;
  info(name: string): Promise<ArtifactInfo | null>;
  delete(name: string): Promise<void>;
  list(prefix?: string): Promise<ArtifactInfo[]>;
}

/** `<sweepId>/<trialId>/<attempt>/<file>`: the conventional name of a trial's artifact. */
export function artifactName(sweepId: string, trialId: string, attempt: number, file: string): string {
  return `${sweepId}/${trialId}/${attempt}/${file}`;
}

function checkName(name: string): void {
  if (
    !name ||
    name.startsWith('/') ||
    name.split('/').some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw new Error(`invalid artifact name '${name}'`);
  }
}

function sha256(data: Uint8Array): string {
  return `SHA-256=${createHash('sha256').update(data).digest('base64url')}`;
}

/**
 * The JetStream object store (bucket created on first use). Reads go through object-reader.ts
 * (no consumers), so a worker's credentials need no consumer grants.
 */
export class NatsArtifactStore implements ArtifactStore {
  private store: Promise<ObjectStore> | null = null;
  private manager: Promise<JetStreamManager> | null = null;

  /** `limits` apply when this store creates the bucket; an existing bucket keeps its own. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket = ARTIFACT_BUCKET,
    private readonly limits: BucketLimits = {},
  ) {}

  /** Opens (creating if need be) the bucket. */
  async ready(): Promise<void> {
    await this.open();
  }

  private open(): Promise<ObjectStore> {
    this.store ??= new Objm(this.nc)
      .create(this.bucket, {
        storage: StorageType.File,
        ttl: nanos(this.limits.ttlMs ?? DEFAULT_ARTIFACT_TTL_MS),
        ...(this.limits.maxBytes ? { max_bytes: this.limits.maxBytes } : {}),
      })
      .catch((error) => {
        this.store = null;
        throw error;
      });
    return this.store;
  }

  private async jsm(): Promise<JetStreamManager> {
    await this.open();
    this.manager ??= jetstreamManager(this.nc);
    return this.manager;
  }

  async put(name: string, data: Uint8Array): Promise<ArtifactInfo> {
    checkName(name);
    const info = await (await this.open()).putBlob({ name }, data);
    return { name, size: info.size, digest: info.digest };
  }

  async get(name: string): Promise<Uint8Array | null> {
    return readObject(await this.jsm(), this.bucket, name);
  }

  async info(name: string): Promise<ArtifactInfo | null> {
    const info = await objectInfo(await this.jsm(), this.bucket, name);
    return info ? { name, size: info.size, digest: info.digest } : null;
  }

  async delete(name: string): Promise<void> {
    const store = await this.open();
    if (await store.info(name)) await store.delete(name);
  }

  async list(prefix = ''): Promise<ArtifactInfo[]> {
    const all = await listObjects(await this.jsm(), this.bucket, prefix);
    return all
      .map((i) => ({ name: i.name, size: i.size, digest: i.digest }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes the bucket (tests). */
  async destroy(): Promise<void> {
    await (await this.open()).destroy();
    this.store = null;
  }
}

/** Files under a directory (embedded mode: `.esweep/artifacts`). */
export class FileArtifactStore implements ArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(name: string): string {
    checkName(name);
    return join(this.root, ...name.split('/'));
  }

  async put(name: string, data: Uint8Array): Promise<ArtifactInfo> {
    const path = this.path(name);
    await mkdir(dirname(path), { recursive: true });
    const partial = `${path}.partial-${process.pid}`;
    await writeFile(partial, data);
    await rename(partial, path);
    return { name, size: data.byteLength, digest: sha256(data) };
  }

  async get(name: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path(name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async info(name: string): Promise<ArtifactInfo | null> {
    const data = await this.get(name);
    return data ? { name, size: data.byteLength, digest: sha256(data) } : null;
  }

  async delete(name: string): Promise<void> {
    await rm(this.path(name), { force: true });
  }

  async list(prefix = ''): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.includes('.partial-')) {
          const name = relative(this.root, path).split(sep).join('/');
          if (name.startsWith(prefix)) {
            const data = await readFile(path);
            out.push({ name, size: (await stat(path)).size, digest: sha256(data) });
          }
        }
      }
    };
    await walk(this.root);
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
