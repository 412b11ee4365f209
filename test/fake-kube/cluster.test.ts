// The fake cluster as operators and fault tests use it: the audit log, the fault-injection hook,
// an API-server restart, and `npm run fake-cluster` as a program.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import type { AuditEntry } from './audit.ts';
import type { InterceptedAnswer, InterceptedRequest } from './server.ts';
import { type FakeCluster, fakeKubeConfig, startFakeCluster, waitFor } from './support.ts';

const NS = 'esweep-test';

function clients(url: string) {
  const kc = fakeKubeConfig(url);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    leases: kc.makeApiClient(CoordinationV1Api),
  };
}

const job = (name: string) => ({
  metadata: { name, labels: { app: 'audit' } },
  spec: {
    template: {
      spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'x', command: ['true'] }] },
    },
  },
});

describe('fake cluster: audit log, faults and restarts', () => {
  let cluster: FakeCluster;
  let api: ReturnType<typeof clients>;
  let auditFile: string;
  let imposed: ((request: InterceptedRequest) => InterceptedAnswer | undefined) | undefined;
  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'esweep-fake-audit-'));
    auditFile = join(dir, 'audit.jsonl');
    cluster = await startFakeCluster({ mode: 'instant', audit: auditFile, intercept: (r) => imposed?.(r) });
    api = clients(cluster.server.url);
  });
  after(async () => {
    await cluster.close();
    await rm(join(auditFile, '..'), { recursive: true, force: true });
  });

  test('one audit line per mutating request, in the file as soon as the response is in', async () => {
    const before = cluster.server.audit.entries.length;
    await api.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'audited' } } });
    const lines = (await readFile(auditFile, 'utf8')).trim().split('\n');
    assert.equal(JSON.parse(lines.at(-1)!).name, 'audited', 'written before the response');

    await api.core.readNamespacedConfigMap({ name: 'audited', namespace: NS });
    await api.core.listNamespacedConfigMap({ namespace: NS });
    await api.core.patchNamespacedConfigMap(
      { name: 'audited', namespace: NS, body: { data: { a: '1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const current = await api.core.readNamespacedConfigMap({ name: 'audited', namespace: NS });
    await api.core.replaceNamespacedConfigMap({ name: 'audited', namespace: NS, body: current });
    await api.core
      .createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'audited' } } })
      .catch(() => {});
    await api.batch.createNamespacedJob({ namespace: NS, body: job('audited-job') });
    await api.batch.deleteCollectionNamespacedJob({
      namespace: NS,
      labelSelector: 'app=audit',
      propagationPolicy: 'Background',
    });
    await api.core.deleteNamespacedConfigMap({ name: 'audited', namespace: NS });

    const entries = cluster.server.audit.entries.slice(before);
    const fromFile = (await readFile(auditFile, 'utf8'))
      .trim()
      .split('\n')
      .slice(before)
      .map((l) => JSON.parse(l) as AuditEntry);
    assert.deepEqual(fromFile, entries, 'the file holds what the accessor holds');
    for (const entry of entries) {
      assert.deepEqual(Object.keys(entry).sort(), [
        'code',
        'name',
        'namespace',
        'resource',
        'time',
        'userAgent',
        'verb',
      ]);
      assert.ok(entry.userAgent, 'the client sends a User-Agent');
    }
    assert.deepEqual(
      entries.map((e) => `${e.verb} ${e.resource} ${e.namespace} ${e.name} ${e.code}`),
      [
        `create configmaps ${NS} audited 201`,
        `patch configmaps ${NS} audited 200`,
        `update configmaps ${NS} audited 200`,
        `create configmaps ${NS} audited 409`,
        `create jobs ${NS} audited-job 201`,
        `delete jobs ${NS} null 200`,
        `delete configmaps ${NS} audited 200`,
      ],
    );
  });

  test('intercept: 429 with Retry-After, 5xx, 410 on a watch, as the real server answers them', async () => {
    const seen: InterceptedRequest[] = [];
    imposed = (request) => {
      seen.push(request);
      if (request.verb === 'create' && request.resource === 'leases')
        return { code: 429, retryAfterSeconds: 2 };
      if (request.verb === 'get' && request.resource === 'leases') return { code: 503 };
      if (request.watch) return { code: 410 };
      return undefined;
    };
    try {
      const url = `${cluster.server.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
      const throttled = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'fault-test' },
        body: JSON.stringify({ metadata: { name: 'l' } }),
      });
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers.get('retry-after'), '2');
      const status = (await throttled.json()) as { reason: string; details: { retryAfterSeconds: number } };
      assert.equal(status.reason, 'TooManyRequests');
      assert.equal(status.details.retryAfterSeconds, 2);
      assert.equal(cluster.server.audit.entries.at(-1)?.code, 429, 'an imposed answer is audited');
      assert.equal(cluster.server.audit.entries.at(-1)?.userAgent, 'fault-test');

      const unavailable = await fetch(`${url}/l`);
      assert.equal(unavailable.status, 503);
      assert.equal(((await unavailable.json()) as { reason: string }).reason, 'ServiceUnavailable');

      const events: { type: string; code?: number }[] = [];
      const ended = new Promise<unknown>((resolve) => {
        new Watch(api.kc).watch(
          `/api/v1/namespaces/${NS}/pods`,
          { resourceVersion: '1' },
          (type, object) => events.push({ type, code: object.code }),
          resolve,
        );
      });
      await ended;
      assert.deepEqual(events, [{ type: 'ERROR', code: 410 }]);
      assert.deepEqual(
        seen.map((r) => `${r.method} ${r.verb} ${r.resource} ${r.namespace} ${r.name ?? '-'} ${r.watch}`),
        [`POST create leases ${NS} - false`, `GET get leases ${NS} l false`, `GET watch pods ${NS} - true`],
      );
    } finally {
      imposed = undefined;
    }
  });

  test('restart() drops every watch and open connection; clients reconnect and the state survives', async () => {
    const ends: unknown[] = [];
    const events: string[] = [];
    await new Watch(api.kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: cluster.server.store.resourceVersion },
      (type, object) => events.push(`${type} ${object.metadata.name}`),
      (error) => ends.push(error ?? 'ended'),
    );
    await api.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'survivor' } } });
    await waitFor('the watch event', () => events.includes('ADDED survivor'));
    cluster.server.restart();
    await waitFor('the watch to end', () => ends.length === 1);
    assert.equal(
      (await api.core.readNamespacedConfigMap({ name: 'survivor', namespace: NS })).metadata?.name,
      'survivor',
    );
  });
});

/** Starts `npm run fake-cluster`'s program; resolves with its first stdout line. */
async function startProgram(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [url] = (await once(lines, 'line')) as [string];
  return { child, url };
}

describe('npm run fake-cluster', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'esweep-fake-main-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('prints its URL first, serves, writes the audit file, exits 0 on SIGTERM leaving no worker behind', async () => {
    const audit = join(dir, 'audit.jsonl');
    const { child, url } = await startProgram(['--audit', audit]);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const api = clients(url);
    const blocking = job('blocks');
    const token = `esweep-fake-main-${process.pid}-${Date.now()}`;
    blocking.spec.template.spec.containers[0].command = [
      process.execPath,
      '-e',
      `setInterval(() => {}, 1000); // ${token}`,
    ];
    await api.batch.createNamespacedJob({ namespace: NS, body: blocking });
    const running = await waitFor('a running pod', async () => {
      const pods = await api.core.listNamespacedPod({ namespace: NS, labelSelector: 'job-name=blocks' });
      return pods.items.find((p) => p.status?.phase === 'Running');
    });
    assert.ok(running.metadata?.name);
    const line = JSON.parse((await readFile(audit, 'utf8')).trim()) as AuditEntry;
    assert.equal(`${line.verb} ${line.resource} ${line.name} ${line.code}`, 'create jobs blocks 201');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0);
    const leftovers = spawn('pgrep', ['-f', token]);
    const [found] = (await once(leftovers, 'exit')) as [number];
    assert.equal(found, 1, 'the worker process was killed with the server');
  });

  test('bad flags: one line on stderr and exit code 2', async () => {
    for (const args of [
      ['--port', 'eighty'],
      ['--bogus'],
      ['--audit', join(dir, 'missing', 'a.jsonl')],
      ['--faults', '429=2'],
    ]) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'main.ts'), ...args],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (chunk) => {
        stderr += chunk;
      });
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 2, args.join(' '));
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.match(stderr, /^fake-cluster: /);
    }
  });
});
