// A faithful fake of the Kubernetes REST + watch API over real HTTP, so the real @kubernetes/client-node
// talks to it: any resource of the registry (built-ins, and custom resources that CRDs register) under
// `/api/v1/…` or `/apis/{group}/{version}/…`, with create, get, list, watch, replace (optimistic
// concurrency), patch, delete (finalizers, propagation, garbage collection by ownerReferences) and
// deletecollection. Jobs are run by the simulated job controller and kubelet in kubelet.ts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { AuditLog } from './audit.ts';
import { customResourceType, establishedStatus } from './crd.ts';
import { JobController, type JobControllerOptions } from './kubelet.ts';
import { applyPatch, patchType } from './patch.ts';
import { Registry } from './registry.ts';
import { apiVersionOf, qualifiedKind, qualifiedName, type ResourceType } from './resource-type.ts';
import { parseFieldSelector, parseSelector, SelectorError } from './selector.ts';
import { ApiError, type Cause, type Change, type KubeObject, type StatusDetails, Store } from './store.ts';
import { table, wantsTable } from './table.ts';

/** What the fault-injection hook sees of a request. */
export interface InterceptedRequest {
  method: string;
  /** get, list, watch, create, update, patch, delete or deletecollection. */
  verb: string;
  /** The plural (`jobs`, `leases`, `sweeps`). */
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  watch: boolean;
}

/** An answer the hook imposes instead of serving the request. */
export interface InterceptedAnswer {
  code: number;
  retryAfterSeconds?: number;
}

export interface FakeKubeOptions extends JobControllerOptions {
  /** Period of BOOKMARK events on watches that ask for them (default 1 s). */
  bookmarkIntervalMs?: number;
  /** Appends one JSON line per mutating request to this file (see audit.ts). */
  audit?: string;
  /** Consulted before each API request: an answer replaces serving it (fault injection). */
  intercept?: (request: InterceptedRequest) => InterceptedAnswer | null | undefined;
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const statusBody = (code: number, reason: string, message: string, details?: StatusDetails) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

const CRDS = 'customresourcedefinitions';

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

interface Watcher {
  key: string;
  namespace?: string;
  inScope: (object: KubeObject) => boolean;
  present: (object: KubeObject) => KubeObject;
  response: ServerResponse;
}

/** A parsed API request. */
interface Call {
  method: string;
  verb: string;
  type: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  url: URL;
  req: IncomingMessage;
}

export class FakeKubeServer {
  readonly store: Store;
  readonly jobs: JobController;
  readonly registry = new Registry();
  readonly audit: AuditLog;
  private readonly server: Server;
  private readonly watchers = new Set<Watcher>();
  private readonly counts = new Map<string, number>();
  private readonly serialized = new WeakMap<object, string>();
  private port = 0;

  constructor(private readonly options: FakeKubeOptions = {}) {
    this.store = new Store();
    this.jobs = new JobController(this.store, options);
    this.audit = new AuditLog(options.audit);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(res, 500, statusBody(500, 'InternalError', String(error)));
        else res.end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.store.subscribe((change) => {
      this.broadcast(change);
      if (change.resource === CRDS && change.type === 'DELETED') this.forgetType(change.object.metadata.name);
      // The garbage collector, a moment after the change as the real one: dependents of a deleted
      // owner, and an object created with owners that are already gone.
      const { uid, namespace = '', name, ownerReferences } = change.object.metadata;
      if (change.type === 'DELETED' && uid) setImmediate(() => this.collectGarbage(uid));
      if (change.type === 'ADDED' && ownerReferences?.length) {
        setImmediate(() => this.collect({ resource: change.resource, namespace, name }, 'Background'));
      }
    });
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

  /** Ends every open watch stream, as a watch timeout would. */
  closeWatches(): void {
    for (const watcher of this.watchers) watcher.response.end();
    this.watchers.clear();
  }

  /** An API-server restart: every watch and every open connection is dropped; the store survives. */
  restart(): void {
    for (const watcher of this.watchers) watcher.response.destroy();
    this.watchers.clear();
    this.server.closeAllConnections();
  }

  async stop(): Promise<void> {
    this.closeWatches();
    await this.jobs.stop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
    this.sendText(res, code, JSON.stringify(body), headers);
  }

  private sendText(
    res: ServerResponse,
    code: number,
    text: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  /** Answers an API call, auditing it first when it mutates. */
  private answer(
    call: Call,
    res: ServerResponse,
    code: number,
    body: unknown,
    headers?: Record<string, string>,
  ) {
    if (MUTATING.has(call.verb)) {
      // A create names its object in the answer: the object, or a refusal's details.
      const answered = body as { metadata?: { name?: string }; details?: { name?: string } } | undefined;
      const named = answered?.metadata?.name ?? answered?.details?.name;
      this.audit.record({
        verb: call.verb === 'deletecollection' ? 'delete' : call.verb,
        resource: call.subresource ? `${call.type.resource}/${call.subresource}` : call.type.resource,
        namespace: call.namespace ?? null,
        name: call.name ?? (call.verb === 'create' ? (named ?? null) : null),
        userAgent: call.req.headers['user-agent'] ?? null,
        code,
      });
    }
    this.send(res, code, body, headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    let call: Call | undefined;
    try {
      if (this.discovery(url.pathname, res)) return;
      call = this.parse(req, url);
      const key = `${call.method} ${call.type.resource}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const watch = call.verb === 'watch';
      const imposed = this.options.intercept?.({
        method: call.method,
        verb: call.verb,
        resource: call.type.resource,
        subresource: call.subresource,
        namespace: call.namespace,
        name: call.name,
        watch,
      });
      if (imposed) return this.impose(call, res, imposed);
      const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(call.method) ? await readJson(req) : undefined;
      return await this.serve(call, body, res);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const body = statusBody(error.code, error.reason, error.message, error.details);
      if (call) return this.answer(call, res, error.code, body);
      return this.send(res, error.code, body);
    }
  }

  private impose(call: Call, res: ServerResponse, imposed: InterceptedAnswer): void {
    const reason = REASONS[imposed.code] ?? 'InternalError';
    if (call.verb === 'watch' && imposed.code === 410) {
      // Like a watch from a compacted resourceVersion: 200, one ERROR event, end of stream.
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', 'too old resource version') })}\n`,
      );
      return;
    }
    const retry = imposed.retryAfterSeconds ?? (imposed.code === 429 ? 1 : undefined);
    const message =
      imposed.code === 429
        ? 'Too many requests, please try again later.'
        : `injected fault: ${imposed.code} ${reason}`;
    const details = retry !== undefined ? { retryAfterSeconds: retry } : undefined;
    const headers: Record<string, string> = retry !== undefined ? { 'retry-after': String(retry) } : {};
    this.answer(call, res, imposed.code, statusBody(imposed.code, reason, message, details), headers);
  }

  /** `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}`, `/version` and health checks. */
  private discovery(path: string, res: ServerResponse): boolean {
    const types = this.registry.all();
    if (path === '/version') {
      this.send(res, 200, { major: '1', minor: '33', gitVersion: 'v1.33.0-esweep-fake', platform: 'fake' });
      return true;
    }
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
      return true;
    }
    if (path === '/api') {
      this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      return true;
    }
    if (path === '/apis') {
      const groups = new Map<string, Set<string>>();
      for (const type of types.filter((t) => t.group)) {
        const versions = groups.get(type.group) ?? new Set<string>();
        for (const version of type.versions) versions.add(version);
        groups.set(type.group, versions);
      }
      this.send(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => {
          const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
          return { name, versions: list, preferredVersion: list[0] };
        }),
      });
      return true;
    }
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!match) return false;
    const group = match[2] ?? '';
    const version = match[1] ?? match[3];
    const served = types.filter((t) => t.group === group && t.versions.includes(version));
    if (!served.length) return false;
    const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
    this.send(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: served.flatMap((t) => [
        {
          name: t.resource,
          singularName: t.singular,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs,
          ...(t.shortNames ? { shortNames: t.shortNames } : {}),
        },
        ...(t.statusSubresource
          ? [
              {
                name: `${t.resource}/status`,
                singularName: '',
                namespaced: t.namespaced,
                kind: t.kind,
                verbs: ['get', 'patch', 'update'],
              },
            ]
          : []),
      ]),
    });
    return true;
  }

  private parse(req: IncomingMessage, url: URL): Call {
    const notFound = () =>
      new ApiError(404, 'NotFound', `the server could not find the requested resource`, {});
    const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(url.pathname);
    if (!match) throw notFound();
    const group = match[2] ?? '';
    const version = match[1] ?? match[3];
    let segments = match[4].split('/').map(decodeURIComponent);
    let namespace: string | undefined;
    if (segments[0] === 'namespaces' && segments.length >= 3) {
      namespace = segments[1];
      segments = segments.slice(2);
    }
    if (segments.length > 3) throw notFound();
    const [resource, name, subresource] = segments;
    const type = this.registry.find(group, version, resource);
    if (!type || (namespace !== undefined && !type.namespaced)) throw notFound();
    if (
      subresource &&
      !(subresource === 'status' && type.statusSubresource) &&
      !(subresource === 'eviction' && type.key === 'pods')
    ) {
      throw notFound();
    }
    const method = req.method ?? 'GET';
    const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const verb = (() => {
      switch (method) {
        case 'GET':
          return name ? 'get' : watch ? 'watch' : 'list';
        case 'POST':
          return 'create';
        case 'PUT':
          return 'update';
        case 'PATCH':
          return 'patch';
        case 'DELETE':
          return name ? 'delete' : 'deletecollection';
        default:
          throw new ApiError(
            405,
            'MethodNotAllowed',
            `the server does not allow this method on the requested resource`,
          );
      }
    })();
    return { method, verb, type, version, namespace, name, subresource, url, req };
  }

  private async serve(call: Call, body: unknown, res: ServerResponse): Promise<void> {
    const { type, namespace, name, url } = call;
    const scoped = type.namespaced ? namespace : '';
    const notAllowed = () =>
      new ApiError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
    if (type.namespaced && scoped === undefined && !['list', 'watch'].includes(call.verb)) throw notAllowed();
    const ns = scoped ?? '';
    switch (call.verb) {
      case 'list': {
        const selected = this.selection(url);
        const all = [...this.store.view(type.key, type.namespaced ? namespace : undefined)].filter(selected);
        // Served from the stored objects, serialized before anything can change them.
        const page = this.page(all, url);
        if (wantsTable(call.req.headers.accept)) {
          const items = page.items.map((o) => this.present(type, call.version, o));
          return this.answer(call, res, 200, table(type, items, page.resourceVersion));
        }
        // The same bytes as JSON.stringify of the list, each item's text made once per version of it.
        const head = JSON.stringify({
          apiVersion: apiVersionOf(type, call.version),
          kind: `${type.kind}List`,
          metadata: page.metadata,
        });
        const items = page.items.map((o) => this.presentText(type, call.version, o)).join(',');
        return this.sendText(res, 200, `${head.slice(0, -1)},"items":[${items}]}`);
      }
      case 'watch':
        return this.watch(call, res);
      case 'get': {
        const object = this.present(type, call.version, this.get(type, ns, name!));
        if (wantsTable(call.req.headers.accept)) {
          return this.answer(call, res, 200, table(type, [object], this.store.resourceVersion));
        }
        return this.answer(call, res, 200, object);
      }
      case 'create': {
        if (call.subresource === 'eviction') {
          this.get(type, ns, name!);
          this.jobs.evict(ns, name!);
          return this.answer(call, res, 201, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            code: 201,
          });
        }
        if (name) throw notAllowed();
        return this.answer(call, res, 201, this.create(call, ns, body));
      }
      case 'update':
      case 'patch':
        return this.answer(call, res, 200, this.modify(call, ns, body));
      case 'delete': {
        if (call.subresource) throw notAllowed();
        const deleted = this.remove(type, ns, name!, propagation(type, url, body), preconditions(body));
        return this.answer(call, res, 200, this.present(type, call.version, deleted));
      }
      case 'deletecollection': {
        const selected = this.selection(url);
        const items = this.store.list(type.key, ns).filter(selected);
        const policy = propagation(type, url, body);
        const deleted = items.map((item) => this.remove(type, ns, item.metadata.name, policy, undefined));
        return this.answer(call, res, 200, {
          apiVersion: apiVersionOf(type, call.version),
          kind: `${type.kind}List`,
          metadata: { resourceVersion: this.store.resourceVersion },
          items: deleted.map((o) => this.present(type, call.version, o)),
        });
      }
    }
    throw notAllowed();
  }

  /**
   * {@link present}'s JSON. A stored object is replaced, never changed, by every write, so its text
   * is kept by identity: a paged list of thousands of objects then serializes each once, not once per
   * list (served at another version than stored, it is serialized each time).
   */
  private presentText(type: ResourceType, version: string, object: Readonly<KubeObject>): string {
    if (object.apiVersion !== apiVersionOf(type, version) || object.kind !== type.kind)
      return JSON.stringify(this.present(type, version, object));
    let text = this.serialized.get(object);
    if (text === undefined) {
      text = JSON.stringify(object);
      this.serialized.set(object, text);
    }
    return text;
  }

  /** The object as served at `version` (custom resources may be served at several). */
  private present(type: ResourceType, version: string, object: KubeObject): KubeObject {
    return { ...object, apiVersion: apiVersionOf(type, version), kind: type.kind };
  }

  private selection(url: URL): (object: KubeObject) => boolean {
    try {
      const labels = parseSelector(url.searchParams.get('labelSelector'));
      const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
      return (object) => labels(object.metadata.labels) && fields(object);
    } catch (error) {
      if (error instanceof SelectorError) throw new ApiError(400, 'BadRequest', error.message);
      throw error;
    }
  }

  private notFound(type: ResourceType, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualifiedName(type)} "${name}" not found`, {
      name,
      group: type.group,
      kind: type.resource,
    });
  }

  /**
   * One page of a list (`limit`, `continue`) as the real server pages it: objects in key order, a
   * continue token naming the last key and the resourceVersion the list began at (which every page
   * reports, so a watch from it replays what changed meanwhile), 410 Expired once that version is
   * compacted. The fake serves later pages from its current state, not an etcd snapshot.
   */
  private page(
    objects: readonly Readonly<KubeObject>[],
    url: URL,
  ): {
    items: Readonly<KubeObject>[];
    resourceVersion: string;
    metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  } {
    const keyOf = (o: Readonly<KubeObject>) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const sorted = objects
      .map((object) => ({ object, key: keyOf(object) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    let resourceVersion = this.store.resourceVersion;
    let after: string | undefined;
    const token = url.searchParams.get('continue');
    if (token) {
      const parsed = continueToken.safeParse(decodeToken(token));
      if (!parsed.success) throw new ApiError(400, 'BadRequest', 'continue key is not valid');
      if (this.store.expired(Number(parsed.data.rv)))
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      resourceVersion = parsed.data.rv;
      after = parsed.data.after;
    }
    const rest = (after === undefined ? sorted : sorted.filter((o) => o.key > after)).map((o) => o.object);
    const limit = Number(url.searchParams.get('limit') ?? 0);
    if (!Number.isInteger(limit) || limit <= 0 || rest.length <= limit)
      return { items: rest, resourceVersion, metadata: { resourceVersion } };
    const items = rest.slice(0, limit);
    const next = Buffer.from(
      JSON.stringify({ rv: resourceVersion, after: keyOf(items[items.length - 1]) }),
    ).toString('base64url');
    return {
      items,
      resourceVersion,
      metadata: { resourceVersion, continue: next, remainingItemCount: rest.length - limit },
    };
  }

  private get(type: ResourceType, namespace: string, name: string): KubeObject {
    const object = this.store.get(type.key, namespace, name);
    if (!object) throw this.notFound(type, name);
    return object;
  }

  /** Throws the 422 the API answers for an invalid object. */
  private invalid(type: ResourceType, name: string, causes: Cause[]): ApiError {
    const listed = causes.map((c) => `${c.field}: ${c.message}`);
    const summary = listed.length === 1 ? listed[0] : `[${listed.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${qualifiedKind(type)} "${name}" is invalid: ${summary}`, {
      name,
      group: type.group,
      kind: type.kind,
      causes,
    });
  }

  private check(
    type: ResourceType,
    version: string,
    object: KubeObject,
    part: 'main' | 'status' = 'main',
    old?: KubeObject,
  ): void {
    decodeMicroTimes(type, version, object);
    const causes = [
      ...(type.validate?.(object, version, part) ?? []),
      ...(old && type.validateUpdate ? type.validateUpdate(object, old) : []),
    ];
    if (causes.length) throw this.invalid(type, object.metadata.name, causes);
  }

  private create(call: Call, namespace: string, body: unknown): KubeObject {
    const { type, version } = call;
    if (!isObject(body) || !isObject(body.metadata)) {
      throw new ApiError(400, 'BadRequest', 'the body of the request is not an object with metadata');
    }
    const object = structuredClone(body) as unknown as KubeObject;
    if (object.kind !== undefined && object.kind !== type.kind) {
      throw new ApiError(
        400,
        'BadRequest',
        `the kind of the object (${object.kind}) does not match ${type.kind}`,
      );
    }
    if (type.namespaced && object.metadata.namespace && object.metadata.namespace !== namespace) {
      throw new ApiError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (type.key === 'pods') throw new ApiError(403, 'Forbidden', 'this fake creates pods only through Jobs');
    delete object.metadata.resourceVersion;
    delete object.metadata.uid;
    if (type.statusSubresource) delete object.status;
    const prepared = { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
    this.check(type, version, prepared);
    this.prepare(type, prepared);
    if (isDryRun(call.url))
      return this.present(type, version, { ...prepared, metadata: { ...prepared.metadata, namespace } });
    try {
      const created = this.store.create(type.key, namespace, prepared);
      this.afterWrite(type, created);
      return this.present(type, version, created);
    } catch (error) {
      if (error instanceof ApiError && error.code === 409) {
        throw new ApiError(
          409,
          'AlreadyExists',
          `${qualifiedName(type)} "${object.metadata.name}" already exists`,
          {
            name: object.metadata.name,
            group: type.group,
            kind: type.resource,
          },
        );
      }
      if (error instanceof ApiError && error.code === 422) {
        throw this.invalid(type, object.metadata.name ?? '', error.details?.causes ?? []);
      }
      throw error;
    }
  }

  /** PUT and PATCH, of the object or of its status. */
  private modify(call: Call, namespace: string, body: unknown): KubeObject {
    const { type, version, name, subresource } = call;
    if (subresource === 'eviction') throw new ApiError(405, 'MethodNotAllowed', 'eviction accepts only POST');
    const current = this.get(type, namespace, name!);
    let desired: KubeObject;
    if (call.verb === 'patch') {
      const kind = patchType(call.req.headers['content-type']);
      const patched = applyPatch(kind, this.present(type, version, current), body);
      if (!isObject(patched) || !isObject(patched.metadata)) {
        throw new ApiError(422, 'Invalid', 'the patched object has no metadata');
      }
      desired = patched as unknown as KubeObject;
    } else {
      if (!isObject(body) || !isObject(body.metadata)) {
        throw new ApiError(400, 'BadRequest', 'the body of the request is not an object with metadata');
      }
      desired = structuredClone(body) as unknown as KubeObject;
      if (desired.metadata.name !== name) {
        throw new ApiError(
          400,
          'BadRequest',
          `the name of the object (${desired.metadata.name}) does not match the name on the URL (${name})`,
        );
      }
      if (!desired.metadata.resourceVersion && type.requireResourceVersionOnUpdate) {
        throw this.invalid(type, name!, [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: 0x0: must be specified for an update',
            field: 'metadata.resourceVersion',
          },
        ]);
      }
    }
    if (desired.kind !== undefined && desired.kind !== type.kind) {
      throw new ApiError(
        400,
        'BadRequest',
        `the kind of the object (${desired.kind}) does not match ${type.kind}`,
      );
    }
    const updated = this.store.update(type.key, namespace, name!, (stored) => {
      const wanted = desired.metadata.resourceVersion;
      if (wanted && wanted !== stored.metadata.resourceVersion) {
        throw new ApiError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name, group: type.group, kind: type.resource },
        );
      }
      const next: KubeObject =
        subresource === 'status'
          ? { ...stored, status: desired.status }
          : {
              ...desired,
              apiVersion: apiVersionOf(type),
              kind: type.kind,
              metadata: {
                ...desired.metadata,
                name: stored.metadata.name,
                ...(stored.metadata.namespace ? { namespace: stored.metadata.namespace } : {}),
                uid: stored.metadata.uid,
                creationTimestamp: stored.metadata.creationTimestamp,
                ...(stored.metadata.deletionTimestamp
                  ? { deletionTimestamp: stored.metadata.deletionTimestamp }
                  : {}),
              },
            };
      if (!next.metadata.deletionTimestamp) delete next.metadata.deletionTimestamp;
      if (subresource !== 'status' && type.statusSubresource) {
        if (stored.status === undefined) delete next.status;
        else next.status = stored.status;
      }
      this.check(type, version, next, subresource === 'status' ? 'status' : 'main', stored);
      if (subresource !== 'status') this.prepare(type, next);
      return next;
    });
    this.afterWrite(type, updated);
    return this.present(type, version, updated);
  }

  /** What the server adds to an object it accepted: a CRD's status once it serves it. */
  private prepare(type: ResourceType, object: KubeObject): void {
    if (type.key === CRDS) object.status = establishedStatus(object);
  }

  /** A stored CRD (re)defines the type it serves. */
  private afterWrite(type: ResourceType, object: KubeObject): void {
    if (type.key === CRDS && !object.metadata.deletionTimestamp) {
      this.registry.register(customResourceType(object));
    }
  }

  /** A deleted CRD: its type is no longer served, its objects and watches are gone. */
  private forgetType(key: string): void {
    this.registry.unregister(key);
    for (const watcher of this.watchers) {
      if (watcher.key !== key) continue;
      watcher.response.end();
      this.watchers.delete(watcher);
    }
    this.store.drop(key);
  }

  private remove(
    type: ResourceType,
    namespace: string,
    name: string,
    policy: string,
    precondition: { uid?: string; resourceVersion?: string } | undefined,
  ): KubeObject {
    const current = this.get(type, namespace, name);
    if (
      (precondition?.uid && precondition.uid !== current.metadata.uid) ||
      (precondition?.resourceVersion && precondition.resourceVersion !== current.metadata.resourceVersion)
    ) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedName(type)} "${name}": the precondition does not match the object`,
        { name, group: type.group, kind: type.resource },
      );
    }
    const uid = current.metadata.uid!;
    if (policy === 'Orphan') {
      // The orphan finalizer's work: dependents lose their reference to the owner.
      for (const dependent of this.store.dependents(uid)) {
        this.store.update(dependent.resource, dependent.namespace, dependent.name, (object) => {
          object.metadata.ownerReferences = object.metadata.ownerReferences?.filter((o) => o.uid !== uid);
          if (!object.metadata.ownerReferences?.length) delete object.metadata.ownerReferences;
        });
      }
    }
    const deleted =
      type.key === 'jobs'
        ? this.jobs.deleteJob(namespace, name, policy)
        : type.key === 'pods'
          ? this.jobs.deletePod(namespace, name)
          : this.store.delete(type.key, namespace, name);
    // Foreground: the dependents are gone when the request returns (Background leaves them to the
    // collector, a moment later).
    if (policy === 'Foreground') {
      for (const dependent of this.store.dependents(uid)) this.collect(dependent, 'Foreground');
    }
    return deleted;
  }

  /** Deletes a dependent whose owners are all gone (the garbage collector). */
  private collect(dependent: { resource: string; namespace: string; name: string }, policy: string): void {
    const type = this.registry.byKey(dependent.resource);
    const object = this.store.get(dependent.resource, dependent.namespace, dependent.name);
    if (!type || !object || object.metadata.deletionTimestamp) return;
    if ((object.metadata.ownerReferences ?? []).some((o) => this.store.hasUid(o.uid))) return;
    try {
      this.remove(type, dependent.namespace, dependent.name, policy, undefined);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
  }

  private collectGarbage(uid: string): void {
    for (const dependent of this.store.dependents(uid)) this.collect(dependent, 'Background');
  }

  private watch(call: Call, res: ServerResponse): void {
    const { type, url } = call;
    const namespace = type.namespaced ? call.namespace : undefined;
    const selected = this.selection(url);
    const since = url.searchParams.get('resourceVersion');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const write = (event: unknown) => res.write(`${JSON.stringify(event)}\n`);
    const inScope = (o: KubeObject) =>
      (namespace === undefined || o.metadata.namespace === namespace) && selected(o);
    const present = (o: KubeObject) => this.present(type, call.version, o);
    if (!since || since === '0') {
      for (const object of this.store.view(type.key, namespace)) {
        if (inScope(object)) write({ type: 'ADDED', object: present(object) });
      }
    } else {
      const backlog = this.store.changesSince(type.key, Number(since));
      if (backlog === null) {
        write({ type: 'ERROR', object: statusBody(410, 'Expired', `too old resource version: ${since}`) });
        res.end();
        return;
      }
      for (const change of backlog)
        if (inScope(change.object)) write({ type: change.type, object: present(change.object) });
    }
    const watcher: Watcher = { key: type.key, namespace, inScope, present, response: res };
    this.watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    if (url.searchParams.get('allowWatchBookmarks') === 'true') {
      timers.push(
        setInterval(() => {
          write({
            type: 'BOOKMARK',
            object: {
              apiVersion: apiVersionOf(type, call.version),
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
      if (watcher.key !== change.resource || !watcher.inScope(change.object)) continue;
      watcher.response.write(
        `${JSON.stringify({ type: change.type, object: watcher.present(change.object) })}\n`,
      );
    }
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** RFC3339 with exactly six fractional digits, as Go parses `2006-01-02T15:04:05.000000Z07:00`. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** The decoding error a real API server gives for a MicroTime in any other form. */
function decodeMicroTimes(type: ResourceType, version: string, object: KubeObject): void {
  for (const path of type.microTimeFields ?? []) {
    let node: unknown = object;
    for (const key of path.split('.')) node = isObject(node) ? node[key] : undefined;
    if (node === undefined || node === null || (typeof node === 'string' && MICRO_TIME.test(node))) continue;
    // Go names what follows the seconds (`.103Z`); anything else is reported whole.
    const fraction = typeof node === 'string' && node.length > 19 ? node.slice(19) : String(node);
    throw new ApiError(
      400,
      'BadRequest',
      `${type.kind} in version "${version}" cannot be handled as a ${type.kind}: parsing time ${JSON.stringify(node)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(fraction)} as ".000000" (field ${path})`,
    );
  }
}

const isDryRun = (url: URL) => url.searchParams.getAll('dryRun').includes('All');

/** `propagationPolicy` from the query or a DeleteOptions body, else the type's default. */
function propagation(type: ResourceType, url: URL, body: unknown): string {
  const options = isObject(body) ? body : {};
  const policy = url.searchParams.get('propagationPolicy') ?? options.propagationPolicy;
  if (policy === undefined || policy === null) {
    const orphan = url.searchParams.get('orphanDependents') ?? options.orphanDependents;
    if (orphan === true || orphan === 'true') return 'Orphan';
    if (orphan === false || orphan === 'false') return 'Background';
    return type.defaultPropagation;
  }
  if (!['Orphan', 'Background', 'Foreground'].includes(String(policy))) {
    throw new ApiError(422, 'Invalid', `propagationPolicy: Unsupported value: ${JSON.stringify(policy)}`);
  }
  return String(policy);
}

function preconditions(body: unknown): { uid?: string; resourceVersion?: string } | undefined {
  const options = isObject(body) && isObject(body.preconditions) ? body.preconditions : undefined;
  if (!options) return undefined;
  return {
    uid: typeof options.uid === 'string' ? options.uid : undefined,
    resourceVersion: typeof options.resourceVersion === 'string' ? options.resourceVersion : undefined,
  };
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

const continueToken = z.object({ rv: z.string().regex(/^\d+$/), after: z.string() });

function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
}
