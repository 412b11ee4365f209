// A message PostgreSQL refuses for its data is found by splitting its batch, parked as a dead letter
// (reason `rejected`), and every other message of the batch lands. What the database would refuse is
// refused before it now (events/validation.ts), so the test gives the database a rule of its own: a
// CHECK constraint on the attempt's host.
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
    await db.prisma.$executeRawUnsafe(
      `ALTER TABLE attempt ADD CONSTRAINT poison_host CHECK (host IS DISTINCT FROM 'poison')`,
    );
    const pipeline = startEmbeddedPipeline(db.store, { ingester: { initialBackoffMs: 1, maxBackoffMs: 4 } });
    try {
      const publisher = pipeline.publisher();
      for (const [i, trialId] of trialIds.entries()) {
        await new TrialReporter(publisher, { sweepId, trialId, attempt: 1 }).started(
          i === 4 ? { host: 'poison' } : {},
        );
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
