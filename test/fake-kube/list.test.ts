import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeKubeServer } from './server.ts';

describe('list responses (serialized once per version of each object)', () => {
  let server: FakeKubeServer;
  let url: string;
  before(async () => {
    server = new FakeKubeServer();
    url = await server.start();
  });
  after(() => server.stop());

  const list = async (query = '') => {
    const response = await fetch(`${url}/api/v1/namespaces/ns/configmaps${query}`);
    assert.equal(response.status, 200);
    return (await response.json()) as {
      kind: string;
      metadata: { resourceVersion: string; continue?: string };
      items: { metadata: { name: string; resourceVersion: string }; data?: Record<string, string> }[];
    };
  };

  test('a list shows every write since the last one, page by page', async () => {
    for (const name of ['a', 'b', 'c'])
      server.store.create('configmaps', 'ns', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name },
        data: { v: '1' },
      });
    const first = await list();
    assert.equal(first.kind, 'ConfigMapList');
    assert.deepEqual(
      first.items.map((i) => [i.metadata.name, i.data?.v]),
      [
        ['a', '1'],
        ['b', '1'],
        ['c', '1'],
      ],
    );
    server.store.update('configmaps', 'ns', 'b', (object) => {
      (object as { data: Record<string, string> }).data.v = '2';
    });
    server.store.delete('configmaps', 'ns', 'c');
    const page1 = await list('?limit=1');
    assert.ok(page1.metadata.continue);
    const page2 = await list(`?limit=1&continue=${page1.metadata.continue}`);
    assert.equal(page2.metadata.continue, undefined);
    const items = [...page1.items, ...page2.items];
    assert.deepEqual(
      items.map((i) => [i.metadata.name, i.data?.v]),
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
    assert.deepEqual(
      items.map((i) => i.metadata.resourceVersion),
      ['a', 'b'].map((name) => server.store.get('configmaps', 'ns', name)?.metadata.resourceVersion),
    );
  });
});
