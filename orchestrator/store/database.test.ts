// Opening a database for plain reads (deferPrisma, briefRead), and the plain read of a sweep's trials
// returning what Prisma returns, on PGlite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from './database.ts';
import { migrate, pendingMigrations } from './migrate.ts';
import { trialRecord } from './records.ts';
import { createPgliteDatabase, createTestDatabase, seedSweep, type TestDatabase } from './test-support.ts';

test('deferPrisma: plain reads and migrations without Prisma, the client only after loadPrisma', async () => {
  const db = await openDatabase('pglite:memory', { deferPrisma: true });
  try {
    assert.throws(() => db.prisma, /not loaded/);
    await migrate(db);
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sweep');
    assert.equal(row?.n, 0);
    await db.loadPrisma();
    assert.equal(await db.prisma.sweep.count(), 0);
  } finally {
    await db.close();
  }
});

test('briefRead sizes an embedded database for a short read; other opens keep the default', async () => {
  const shared = async (options: { briefRead?: boolean }) => {
    const db = await openDatabase('pglite:memory', { ...options, deferPrisma: true });
    try {
      const [row] = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      return row?.shared_buffers;
    } finally {
      await db.close();
    }
  };
  assert.equal(await shared({ briefRead: true }), '16MB');
  assert.equal(await shared({}), '128MB');
});

test('briefRead: arrays of the built-in types go in and come out as arrays; it migrates', async () => {
  const db = await openDatabase('pglite:memory', { briefRead: true, deferPrisma: true });
  try {
    await migrate(db);
    assert.deepEqual(await pendingMigrations(db), []);
    const [row] = await db.query<{ texts: string[]; ints: number[]; floats: number[]; flags: boolean[] }>(
      'SELECT $1::text[] AS texts, $2::int[] AS ints, $3::float8[] AS floats, $4::boolean[] AS flags',
      [['a', 'b,c', null], [1, 2], [0.5], [true, false]],
    );
    assert.deepEqual(row, { texts: ['a', 'b,c', null], ints: [1, 2], floats: [0.5], flags: [true, false] });
    const [none] = await db.query<{ match: boolean }>("SELECT 'x' = ANY($1::text[]) AS match", [['y', 'x']]);
    assert.equal(none?.match, true);
  } finally {
    await db.close();
  }
});

for (const backend of ['pglite', 'postgres'] as const) {
  describe(`listTrials through plain SQL (${backend})`, () => {
    let db: TestDatabase;
    before(async () => {
      db = backend === 'pglite' ? await createPgliteDatabase() : await createTestDatabase('plain_trials');
    });
    after(() => db.dispose());

    test('returns the trials Prisma returns, all or by state, by key', async () => {
      const { sweepId, trialIds } = await seedSweep(db.store, 4);
      await db.store.startAttempts(
        trialIds.slice(0, 2).map((trialId) => ({ trialId, attempts: 0, jobName: 'j' })),
      );
      await db.store.markTrials([
        { trialId: trialIds[0]!, status: 'completed' },
        { trialId: trialIds[1]!, status: 'failed', error: 'boom', retryable: true },
      ]);
      const viaPrisma = async (status?: ('failed' | 'completed' | 'pending')[]) =>
        (
          await db.prisma.trial.findMany({
            where: { sweepId, status: status && { in: status } },
            orderBy: { key: 'asc' },
          })
        ).map(trialRecord);
      assert.deepEqual(await db.store.listTrials(sweepId), await viaPrisma());
      assert.deepEqual(await db.store.listTrials(sweepId, { status: 'failed' }), await viaPrisma(['failed']));
      assert.deepEqual(
        await db.store.listTrials(sweepId, { status: ['failed', 'pending'] }),
        await viaPrisma(['failed', 'pending']),
      );
      assert.equal((await db.store.listTrials(sweepId, { status: 'failed' }))[0]?.error, 'boom');
    });
  });
}
