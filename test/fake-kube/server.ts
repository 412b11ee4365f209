// A faithful fake of the Kubernetes REST + watch API for batch/v1 Jobs and v1 Pods (and Secrets /
// ConfigMaps for environment references), over real HTTP, so the real @kubernetes/client-node talks
// to it. Jobs are run by the simulated job controller and kubelet in kubelet.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobController, type JobControllerOptions } from './kubelet.ts';
import { parseSelector, SelectorError } from './selector.ts';
import { ApiError, type Change, type KubeObject, Store } from './store.ts';

interface ResourceType {
  resource: string;
  apiVersion: string;
  kind: string;
}

const RESOURCES: Record<string, ResourceType> = {
  jobs: { resource: 'jobs', apiVersion: 'batch/v1', kind: 'Job' },
  pods: { resource: 'pods', apiVersion: 'v1', kind: 'Pod' },
  secrets: { resource: 'secrets', apiVersion: 'v1', kind: 'Secret' },
  configmaps: { resource: 'configmaps', apiVersion: 'v1', kind: 'ConfigMap' },
};

/** `/apis/batch/v1/…` or `/api/v1/…`, optionally namespaced, optionally one object and a subresource. */
const ROUTE =
  /^\/(?:apis\/batch\/v1|api\/v1)(?:\/namespaces\/([a-z0-9-]+))?\/(jobs|pods|secrets|configmaps)(?:\/([a-z0-9.-]+)(?:\/(eviction|status))?)?$/;

export interface FakeKubeOptions extends JobControllerOptions {
  /** Period of BOOKMARK events on watches that ask for them (default 1 s). */
  bookmarkIntervalMs?: number;
}

const statusBody = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

interface Watcher {
  resource: string;
  namespace?: string;
  matches: (labels: Record<string, string> | undefined) => boolean;
  response: ServerResponse;
}

export class FakeKubeServer {
  readonly store: Store;
  readonly jobs: JobController;
  private readonly server: Server;
  private readonly watchers = new Set<Watcher>();
  private readonly counts = new Map<string, number>();
  private port = 0;

  constructor(private readonly options: FakeKubeOptions = {}) {
    this.store = new Store();
    this.jobs = new JobController(this.store, options);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, 500, statusBody(500, 'InternalError', String(error)));
        else res.end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.store.subscribe((change) => this.broadcast(change));
  }

  async start(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many requests of `METHOD resource` were served (e.g. `POST jobs`). */
  requests(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Ends every open watch stream, as an API server restart or a watch timeout would. */
  closeWatches(): void {
    for (const watcher of this.watchers) watcher.response.end();
    this.watchers.clear();
  }

  async stop(): Promise<void> {
    this.closeWatches();
    await this.jobs.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = ROUTE.exec(url.pathname);
    try {
      if (!match)
        throw new ApiError(
          404,
          'NotFound',
          `the server could not find the requested resource ${url.pathname}`,
        );
      const [, namespace, resource, name, subresource] = match;
      const type = RESOURCES[resource];
      const method = req.method ?? 'GET';
      this.counts.set(`${method} ${resource}`, (this.counts.get(`${method} ${resource}`) ?? 0) + 1);
      const body =
        method === 'POST' || method === 'PUT' || method === 'DELETE' ? await readJson(req) : undefined;

      if (subresource === 'eviction' && method === 'POST' && namespace && resource === 'pods') {
        this.get(type, namespace, name);
        this.jobs.evict(namespace, name);
        return this.send(res, 201, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          code: 201,
        });
      }
      if (subresource)
        throw new ApiError(405, 'MethodNotAllowed', `${method} ${subresource} is not supported`);

      if (!name) {
        const matches = parseSelectorOr400(url.searchParams.get('labelSelector'));
        if (method === 'GET' && ['true', '1'].includes(url.searchParams.get('watch') ?? '')) {
          return this.watch(type, namespace, matches, url, res);
        }
        if (method === 'GET') {
          const items = this.store.list(resource, namespace).filter((o) => matches(o.metadata.labels));
          return this.send(res, 200, {
            apiVersion: type.apiVersion,
            kind: `${type.kind}List`,
            metadata: { resourceVersion: this.store.resourceVersion },
            items: items.map((o) => ({ apiVersion: type.apiVersion, kind: type.kind, ...o })),
          });
        }
        if (method === 'POST' && namespace) {
          const object = body as KubeObject;
          if (!object?.metadata) throw new ApiError(400, 'BadRequest', 'the body has no metadata');
          if (resource === 'pods') {
            throw new ApiError(403, 'Forbidden', 'this fake creates pods only through Jobs');
          }
          const created = this.store.create(resource, namespace, {
            ...object,
            apiVersion: type.apiVersion,
            kind: type.kind,
          });
          return this.send(res, 201, created);
        }
        if (method === 'DELETE' && namespace) {
          const items = this.store.list(resource, namespace).filter((o) => matches(o.metadata.labels));
          for (const item of items) this.remove(type, namespace, item.metadata.name, propagation(url, body));
          return this.send(res, 200, {
            apiVersion: type.apiVersion,
            kind: `${type.kind}List`,
            metadata: {},
            items,
          });
        }
      } else if (namespace) {
        if (method === 'GET') return this.send(res, 200, this.get(type, namespace, name));
        if (method === 'DELETE') {
          return this.send(res, 200, this.remove(type, namespace, name, propagation(url, body)));
        }
      }
      throw new ApiError(405, 'MethodNotAllowed', `${method} ${url.pathname} is not supported`);
    } catch (error) {
      if (error instanceof ApiError) {
        return this.send(res, error.code, statusBody(error.code, error.reason, error.message));
      }
      throw error;
    }
  }

  private get(type: ResourceType, namespace: string, name: string): KubeObject {
    const object = this.store.get(type.resource, namespace, name);
    if (!object) throw new ApiError(404, 'NotFound', `${type.resource} "${name}" not found`);
    return object;
  }

  private remove(type: ResourceType, namespace: string, name: string, policy: string): KubeObject {
    if (type.resource === 'jobs') return this.jobs.deleteJob(namespace, name, policy);
    if (type.resource === 'pods') return this.jobs.deletePod(namespace, name);
    return this.store.delete(type.resource, namespace, name);
  }

  private watch(
    type: ResourceType,
    namespace: string | undefined,
    matches: Watcher['matches'],
    url: URL,
    res: ServerResponse,
  ): void {
    const since = url.searchParams.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (event: unknown) => res.write(`${JSON.stringify(event)}\n`);
    const inScope = (o: KubeObject) =>
      (namespace === undefined || o.metadata.namespace === namespace) && matches(o.metadata.labels);
    if (!since || since === '0') {
      for (const object of this.store.list(type.resource, namespace)) {
        if (inScope(object))
          write({ type: 'ADDED', object: { apiVersion: type.apiVersion, kind: type.kind, ...object } });
      }
    } else {
      const backlog = this.store.changesSince(type.resource, Number(since));
      if (backlog === null) {
        write({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${since}`) });
        res.end();
        return;
      }
      for (const change of backlog)
        if (inScope(change.object)) write({ type: change.type, object: change.object });
    }
    const watcher: Watcher = { resource: type.resource, namespace, matches, response: res };
    this.watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    if (url.searchParams.get('allowWatchBookmarks') === 'true') {
      timers.push(
        setInterval(() => {
          write({
            type: 'BOOKMARK',
            object: {
              apiVersion: type.apiVersion,
              kind: type.kind,
              metadata: { resourceVersion: this.store.resourceVersion },
            },
          });
        }, this.options.bookmarkIntervalMs ?? 1000),
      );
    }
    const timeout = Number(url.searchParams.get('timeoutSeconds'));
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    const finish = () => {
      this.watchers.delete(watcher);
      for (const timer of timers) clearTimeout(timer);
    };
    res.on('close', finish);
    res.on('finish', finish);
  }

  private broadcast(change: Change): void {
    for (const watcher of this.watchers) {
      if (watcher.resource !== change.resource) continue;
      const object = change.object;
      if (watcher.namespace !== undefined && object.metadata.namespace !== watcher.namespace) continue;
      if (!watcher.matches(object.metadata.labels)) continue;
      watcher.response.write(`${JSON.stringify({ type: change.type, object })}\n`);
    }
  }
}

function parseSelectorOr400(selector: string | null) {
  try {
    return parseSelector(selector);
  } catch (error) {
    if (error instanceof SelectorError) throw new ApiError(400, 'BadRequest', error.message);
    throw error;
  }
}

/** `propagationPolicy` from the query or a DeleteOptions body; Jobs default to Orphan like the real API. */
function propagation(url: URL, body: unknown): string {
  const fromBody = (body as { propagationPolicy?: string } | undefined)?.propagationPolicy;
  return url.searchParams.get('propagationPolicy') ?? fromBody ?? 'Orphan';
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BadRequest', 'the body is not JSON');
  }
}
