import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Store } from './store.ts';

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [] },
});

describe('the store history (resuming watches)', () => {
  test('changes after a resourceVersion are replayed, as they were, until they fall out of the bounded history', () => {
    const store = new Store(4);
    const start = Number(store.resourceVersion);
    store.create('pods', 'ns', pod('a'));
    const afterB = Number(store.create('pods', 'ns', pod('b')).metadata.resourceVersion);
    store.create('pods', 'ns', pod('c'));
    store.update('pods', 'ns', 'a', (object) => {
      object.metadata.labels = { changed: 'yes' };
    });
    store.create('configmaps', 'ns', pod('x'));
    const replayed = store.changesSince('pods', afterB);
    assert.deepEqual(
      replayed?.map((c) => [c.type, c.object.metadata.name, c.object.metadata.labels?.changed]),
      [
        ['ADDED', 'c', undefined],
        ['MODIFIED', 'a', 'yes'],
      ],
    );
    // A replayed object is a copy: changing it changes neither the store nor a later replay.
    replayed![1].object.metadata.name = 'z';
    assert.equal(store.changesSince('pods', afterB)?.[1].object.metadata.name, 'a');
    assert.equal(store.get('pods', 'ns', 'a')?.metadata.labels?.changed, 'yes');

    // Five changes, four kept: the first one is gone, so a watch from before it must get 410.
    assert.equal(store.changesSince('pods', start), null);
    assert.equal(store.expired(start), true);
    assert.equal(store.changesSince('pods', start + 1)?.length, 3);
    for (let k = 0; k < 10; k++) store.create('pods', 'ns', pod(`p${k}`));
    assert.deepEqual(
      store.changesSince('pods', Number(store.resourceVersion) - 4)?.map((c) => c.object.metadata.name),
      ['p6', 'p7', 'p8', 'p9'],
    );
    assert.equal(store.changesSince('pods', Number(store.resourceVersion) - 5), null);
  });
});
