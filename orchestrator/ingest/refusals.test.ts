// Refusals the database makes for the data: trusted without a ping right after it answered, and one
// ping is shared by every refusal that needs it, so a search for refused messages does not double its
// round trips.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { MemoryTransport } from '../events/memory.ts';
import type { TrialEvent } from '../events/protocol.ts';
import type { BatchOutcome, DeadLetterRow, EventStore } from '../store/store.ts';
import { Ingester, type IngesterOptions } from './ingester.ts';
import { queueHeartbeats } from './test-support.ts';

const checkViolation = Object.assign(new Error('violates check constraint'), { meta: { code: '23514' } });

/** A store that refuses every batch holding an event of a seq in `poison`, and counts what it is asked. */
function refusingStore(poison: Set<number>, ping: (store: RefusingStore) => Promise<void> = async () => {}) {
  const store = {
    writes: 0,
    refusals: 0,
    pings: 0,
    deadLetters: [] as DeadLetterRow[],
    async writeEventBatch(events: TrialEvent[], deadLetters: (outcome: BatchOutcome) => DeadLetterRow[]) {
      store.writes++;
      if (events.some((e) => poison.has(e.seq))) {
        store.refusals++;
        throw checkViolation;
      }
      const outcome = { inserted: events.length, duplicates: 0, points: 0, rejected: [] };
      store.deadLetters.push(...deadLetters(outcome));
      return outcome;
    },
    async ping() {
      store.pings++;
      await ping(store);
    },
  };
  return store satisfies EventStore;
}
type RefusingStore = ReturnType<typeof refusingStore>;

async function ingest(store: EventStore, count: number, options: IngesterOptions) {
  const transport = new MemoryTransport();
  await queueHeartbeats(transport, count);
  const ingester = new Ingester(store, transport, options).start();
  try {
    await transport.whenEmpty();
  } finally {
    await ingester.stop();
  }
  return ingester;
}

describe('refusals for the data', () => {
  it('are trusted without a ping while the database answered lately', async () => {
    const store = refusingStore(new Set([0, 5]));
    const ingester = await ingest(store, 8, { maxBatch: 8, answeredRecentlyMs: 3_600_000 });
    assert.deepEqual(store.deadLetters.map((d) => d.reason).sort(), ['rejected', 'rejected']);
    assert.equal(ingester.stats.inserted, 6);
    assert.ok(store.refusals >= 4, `${store.refusals} refusals`);
    // The first refusal came before anything committed; every later one followed a commit.
    assert.equal(store.pings, 1);
  });

  it('that come together share one ping', async () => {
    // Two batches of one poison message each are refused side by side before anything committed; the
    // ping answers only once both asked, so a second ping would be a second round trip.
    const store = refusingStore(new Set([0, 1]), (s) =>
      waitFor('both refusals', () => s.refusals === 2).then(() => {}),
    );
    await ingest(store, 2, { maxBatch: 1, concurrency: 2, answeredRecentlyMs: 0 });
    assert.equal(store.refusals, 2);
    assert.equal(store.pings, 1);
    assert.deepEqual(
      store.deadLetters.map((d) => d.reason),
      ['rejected', 'rejected'],
    );
  });
});
