import assert from 'node:assert/strict';
import { it } from 'node:test';
import { emptyStats, recordBatch, recordFailure } from './stats.ts';

it('adds up committed batches and failed tries', () => {
  const stats = emptyStats();
  recordBatch(stats, { inserted: 10, duplicates: 2, points: 40 }, [{ reason: 'malformed' }]);
  recordFailure(stats, new Error('connection lost'));
  recordBatch(stats, { inserted: 5, duplicates: 0, points: 0 }, [
    { reason: 'rejected' },
    { reason: 'malformed' },
    { reason: 'malformed' },
  ]);
  assert.deepEqual(stats, {
    messages: 0,
    redeliveries: 0,
    batches: 2,
    inserted: 15,
    duplicates: 2,
    points: 40,
    deadLetters: 4,
    deadLettersByReason: { malformed: 3, rejected: 1 },
    dbErrors: 1,
    lastError: 'connection lost',
  });
  assert.notEqual(emptyStats(), emptyStats(), 'each ingester its own totals');
});
