// A message PostgreSQL refuses for its data (a valid ISO time in year 0, which timestamptz cannot hold) is found by splitting
// its batch, parked as a dead letter (reason `rejected`), and every other message of the batch lands.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrialReporter } from '../events/publisher.ts';
import { createTestDatabase, seedSweep, type TestDatabase } from '../store/test-support.ts';
import { startEmbeddedPipeline } from './embedded.ts';

describe('a message the database refuses', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('poison');
  });
  after(async () => {
    await db?.dispose();
  });

  it('is isolated from its batch and parked; the rest is written', async () => {
    const { sweepId, trialIds } = await seedSweep(db.store, 6, 'poison');
    const pipeline = startEmbeddedPipeline(db.store, { ingester: { initialBackoffMs: 1, maxBackoffMs: 4 } });
    try {
      const publisher = pipeline.publisher();
      for (const [i, trialId] of trialIds.entries()) {
        const now = () => new Date(i === 4 ? '0000-01-01T00:00:00Z' : Date.now());
        await new TrialReporter(publisher, { sweepId, trialId, attempt: 1, now }).started();
      }
      await publisher.flush();
      await pipeline.drain();

      const dead = await db.prisma.deadLetter.findMany();
      assert.deepEqual(
        dead.map((d) => d.reason),
        ['rejected'],
      );
      assert.match(dead[0]!.data, new RegExp(trialIds[4]!));
      const statuses = await Promise.all(trialIds.map(async (id) => (await db.store.getTrial(id))?.status));
      assert.deepEqual(statuses, ['running', 'running', 'running', 'running', 'pending', 'running']);
      // At most 6 → 3+3 → 2+1 → 1+1: one refusal per level on the way to the culprit, no part retried
      const refusals = pipeline.ingester.stats.dbErrors;
      assert.ok(refusals >= 1 && refusals <= 4, `${refusals} refusals: each refused part was split at once`);
      assert.equal(pipeline.ingester.stats.deadLetters, 1);
      assert.equal(pipeline.transport.deadLetters[0]?.reason, 'rejected');
    } finally {
      await pipeline.stop();
    }
  });
});
