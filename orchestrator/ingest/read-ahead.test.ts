// How far the ingester reads ahead of its writer: one batch waiting beyond the batches being written,
// whatever `maxBuffered` allows, so a backlog (a catch-up after an outage) is not pulled into memory
// and kept alive message by message while the writer works through it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { waitFor } from '../../test/support/wait.ts';
import { MemoryTransport } from '../events/memory.ts';
import type { TrialEvent } from '../events/protocol.ts';
import type { BatchOutcome, DeadLetterRow, EventStore } from '../store/store.ts';
import { Ingester } from './ingester.ts';
import { queueHeartbeats } from './test-support.ts';

/** A store whose writes wait until `open()`; it counts the events it was given. */
function gatedStore() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const store = {
    written: 0,
    open,
    async writeEventBatch(events: TrialEvent[], deadLetters: (outcome: BatchOutcome) => DeadLetterRow[]) {
      await gate;
      store.written += events.length;
      const outcome = { inserted: events.length, duplicates: 0, points: 0, rejected: [] };
      deadLetters(outcome);
      return outcome;
    },
    async ping() {},
  };
  return store satisfies EventStore;
}

describe('read-ahead', () => {
  it('stops once a whole batch waits beyond the batches being written, then reads on as they commit', async () => {
    const maxBatch = 50;
    const concurrency = 2;
    const transport = new MemoryTransport();
    await queueHeartbeats(transport, 20 * maxBatch);
    const store = gatedStore();
    const ingester = new Ingester(store, transport, { maxBatch, concurrency, maxBuffered: 10_000 }).start();
    try {
      await waitFor('a batch waiting', () => ingester.held.messages >= maxBatch);
      for (let i = 0; i < 50; i++) await setImmediate();
      const held = ingester.held.messages;
      assert.ok(
        held <= (concurrency + 1) * maxBatch,
        `${held} held: at most ${concurrency} batches written and one waiting`,
      );
      assert.ok(transport.pending > held, 'the rest of the backlog is left with the transport');
      store.open();
      await transport.whenEmpty();
      assert.equal(store.written, 20 * maxBatch);
    } finally {
      store.open();
      await ingester.stop();
    }
  });
});
