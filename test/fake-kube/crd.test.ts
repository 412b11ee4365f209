import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
  Watch,
} from '@kubernetes/client-node';
import { type FakeCluster, fakeKubeConfig, startFakeCluster, waitFor } from './support.ts';

const NS = 'esweep-test';
const GROUP = 'example.esweep.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'trainings';
const where = { group: GROUP, version: VERSION, namespace: NS, plural: PLURAL };

/** A Sweep-like custom resource: a validated spec, a status subresource, printer columns. */
const CRD: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: {
      plural: PLURAL,
      singular: 'training',
      kind: 'Training',
      listKind: 'TrainingList',
      shortNames: ['tr'],
    },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          { name: 'Done', type: 'integer', jsonPath: '.status.done' },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['pruners', 'compressions'],
                properties: {
                  pruners: {
                    type: 'array',
                    minItems: 1,
                    items: { type: 'string', enum: ['magnitude', 'random'] },
                  },
                  compressions: { type: 'array', items: { type: 'number', minimum: 0, maximum: 1 } },
                  seeds: { type: 'integer', minimum: 1, _default: 1 },
                  notes: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                },
              },
              status: {
                type: 'object',
                properties: {
                  phase: { type: 'string' },
                  done: { type: 'integer' },
                  conditions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: { type: { type: 'string' }, status: { type: 'string' } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

interface Training {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    resourceVersion?: string;
    generation?: number;
    deletionTimestamp?: string;
    finalizers?: string[];
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const training = (name: string, spec: Record<string, unknown>, finalizers?: string[]): Training => ({
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'Training',
  metadata: { name, ...(finalizers ? { finalizers } : {}) },
  spec,
});

interface Status {
  reason: string;
  message: string;
  details: { causes: { field: string; reason: string; message: string }[] };
}

async function failure(promise: Promise<unknown>): Promise<{ code: number; status: Status }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ApiException, String(error));
    return { code: error.code, status: JSON.parse(String(error.body)) };
  }
  assert.fail('expected an ApiException');
}

describe('fake API server: custom resources', () => {
  let cluster: FakeCluster;
  let kc: KubeConfig;
  let objects: CustomObjectsApi;
  let crds: ApiextensionsV1Api;
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  before(async () => {
    cluster = await startFakeCluster({ mode: 'instant', bookmarkIntervalMs: 50 });
    kc = fakeKubeConfig(cluster.server.url);
    objects = kc.makeApiClient(CustomObjectsApi);
    crds = kc.makeApiClient(ApiextensionsV1Api);
  });
  after(() => cluster.close());

  test('a CRD registers its resource: Established, then objects are pruned, defaulted and validated', async () => {
    assert.equal((await failure(objects.listNamespacedCustomObject(where))).code, 404, 'not served before');
    const created = await crds.createCustomResourceDefinition({ body: CRD });
    assert.equal(created.status?.conditions?.find((c) => c.type === 'Established')?.status, 'True');
    const bad = structuredClone(CRD);
    bad.metadata!.name = 'wrong.example.com';
    const refused = await failure(crds.createCustomResourceDefinition({ body: bad }));
    assert.equal(refused.code, 422);
    assert.equal(refused.status.details.causes[0].field, 'metadata.name');

    const stored = (await objects.createNamespacedCustomObject({
      ...where,
      body: {
        ...training('ok', { pruners: ['magnitude'], compressions: [0.5], notes: { free: 'form' } }),
        junk: 1,
      },
    })) as Training & { junk?: number };
    assert.equal(stored.metadata.generation, 1);
    assert.equal(stored.spec.seeds, 1, 'schema default applied');
    assert.deepEqual(stored.spec.notes, { free: 'form' }, 'preserved unknown fields kept');
    assert.equal(stored.junk, undefined, 'undeclared fields pruned');

    const outOfRange = await failure(
      objects.createNamespacedCustomObject({
        ...where,
        body: training('bad', { pruners: ['magnitude'], compressions: [0.5, 1.5] }),
      }),
    );
    assert.equal(outOfRange.code, 422);
    assert.equal(outOfRange.status.reason, 'Invalid');
    assert.deepEqual(outOfRange.status.details.causes, [
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 1.5: spec.compressions[1] in body should be less than or equal to 1',
        field: 'spec.compressions[1]',
      },
    ]);
    assert.equal(
      outOfRange.status.message,
      'Training.example.esweep.dev "bad" is invalid: spec.compressions[1]: Invalid value: 1.5: spec.compressions[1] in body should be less than or equal to 1',
    );
    const several = await failure(
      objects.createNamespacedCustomObject({
        ...where,
        body: training('bad', { pruners: ['lottery'], seeds: 'x' }),
      }),
    );
    assert.deepEqual(
      several.status.details.causes
        .map((c: { field: string; reason: string }) => `${c.field} ${c.reason}`)
        .sort(),
      [
        'spec.compressions FieldValueRequired',
        'spec.pruners[0] FieldValueNotSupported',
        'spec.seeds FieldValueTypeInvalid',
      ],
    );
    assert.match(several.status.message, /^Training\.example\.esweep\.dev "bad" is invalid: \[/);
  });

  test('status subresource, generation, PUT needs a resourceVersion, finalizers hold a delete', async () => {
    await objects.createNamespacedCustomObject({
      ...where,
      body: training('run', { pruners: ['random'], compressions: [0.9] }, ['example.esweep.dev/cleanup']),
    });
    const read = (await objects.getNamespacedCustomObject({ ...where, name: 'run' })) as Training;

    // The main resource ignores status; a spec change bumps generation.
    const edited = structuredClone(read);
    edited.spec.compressions = [0.9, 0.99];
    edited.status = { phase: 'Hacked' };
    const replaced = (await objects.replaceNamespacedCustomObject({
      ...where,
      name: 'run',
      body: edited,
    })) as Training;
    assert.equal(replaced.metadata.generation, 2);
    assert.equal(replaced.status, undefined);
    const unconditional = structuredClone(replaced);
    delete unconditional.metadata.resourceVersion;
    const noVersion = await failure(
      objects.replaceNamespacedCustomObject({ ...where, name: 'run', body: unconditional }),
    );
    assert.equal(noVersion.code, 422);
    assert.equal(noVersion.status.details.causes[0].field, 'metadata.resourceVersion');
    const stale = await failure(
      objects.replaceNamespacedCustomObject({ ...where, name: 'run', body: edited }),
    );
    assert.equal(stale.code, 409);

    // /status ignores everything but status, and does not bump generation.
    const withStatus = structuredClone(replaced);
    withStatus.spec.compressions = [0.1];
    withStatus.status = { phase: 'Running', done: 3, conditions: [{ type: 'Ready', status: 'True' }] };
    const statusWritten = (await objects.replaceNamespacedCustomObjectStatus({
      ...where,
      name: 'run',
      body: withStatus,
    })) as Training;
    assert.deepEqual(statusWritten.spec.compressions, [0.9, 0.99]);
    assert.equal(statusWritten.status?.phase, 'Running');
    assert.equal(statusWritten.metadata.generation, 2);
    const patched = (await objects.patchNamespacedCustomObjectStatus(
      { ...where, name: 'run', body: { status: { done: 4 }, spec: { seeds: 9 } } },
      merge,
    )) as Training;
    assert.deepEqual(patched.status, {
      phase: 'Running',
      done: 4,
      conditions: [{ type: 'Ready', status: 'True' }],
    });
    assert.equal(patched.spec.seeds, 1);
    const badStatus = await failure(
      objects.patchNamespacedCustomObjectStatus(
        { ...where, name: 'run', body: { status: { done: 'many' } } },
        merge,
      ),
    );
    assert.equal(badStatus.status.details.causes[0].field, 'status.done');

    // Printer columns: what `kubectl get trainings` shows.
    const response = await fetch(
      `${cluster.server.url}/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
      {
        headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
      },
    );
    const printed = (await response.json()) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    assert.equal(printed.kind, 'Table');
    assert.deepEqual(
      printed.columnDefinitions.map((c) => c.name),
      ['Name', 'Phase', 'Done', 'Ready', 'Age'],
    );
    assert.deepEqual(printed.rows.find((r) => r.cells[0] === 'run')?.cells.slice(0, 4), [
      'run',
      'Running',
      4,
      'True',
    ]);

    // Finalizers: DELETE marks the object (MODIFIED), removing the last finalizer deletes it.
    const events: string[] = [];
    const watch = await new Watch(kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
      { resourceVersion: patched.metadata.resourceVersion, allowWatchBookmarks: true },
      (type, object) =>
        events.push(
          type === 'BOOKMARK'
            ? type
            : `${type} ${object.metadata.name}${object.metadata.deletionTimestamp ? ' deleting' : ''}`,
        ),
      () => {},
    );
    await objects.deleteNamespacedCustomObject({ ...where, name: 'run' });
    const deleting = (await objects.getNamespacedCustomObject({ ...where, name: 'run' })) as Training;
    assert.ok(deleting.metadata.deletionTimestamp);
    await objects.patchNamespacedCustomObject(
      { ...where, name: 'run', body: { metadata: { finalizers: null } } },
      merge,
    );
    assert.equal((await failure(objects.getNamespacedCustomObject({ ...where, name: 'run' }))).code, 404);
    await waitFor(
      'DELETED and a bookmark',
      () => events.includes('DELETED run deleting') && events.includes('BOOKMARK'),
    );
    assert.deepEqual(
      events.filter((e) => e !== 'BOOKMARK'),
      ['MODIFIED run deleting', 'DELETED run deleting'],
    );
    watch.abort();

    // A watch from a compacted resourceVersion gets 410 Expired, like any other resource.
    cluster.server.store.compact();
    const gone: number[] = [];
    await new Promise<unknown>((resolve) => {
      new Watch(kc).watch(
        `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
        { resourceVersion: patched.metadata.resourceVersion },
        (type, object) => type === 'ERROR' && gone.push(object.code),
        resolve,
      );
    });
    assert.deepEqual(gone, [410]);
  });

  test('deleting the CRD stops serving its resource', async () => {
    await crds.deleteCustomResourceDefinition({ name: `${PLURAL}.${GROUP}` });
    assert.equal((await failure(objects.listNamespacedCustomObject(where))).code, 404);
    await crds.createCustomResourceDefinition({ body: CRD });
    const list = (await objects.listNamespacedCustomObject(where)) as { items: unknown[] };
    assert.deepEqual(list.items, [], 'the objects went with the CRD');
  });
});
