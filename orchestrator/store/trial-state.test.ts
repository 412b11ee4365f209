// The trial state machine as a table, and the places that must agree with it: the Prisma enum, the
// database's own order of `trial_status` (what GREATEST in event-writes.ts uses) and the event merge.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../project-root.ts';
import { aggregateAttempts } from './event-writes.ts';
import { createTestDatabase, type TestDatabase } from './test-support.ts';
import {
  CAUSES,
  type Cause,
  eventStatus,
  higherStatus,
  mayTransition,
  notFromStatuses,
  statusRank,
  TRIAL_STATUSES,
  type TrialStatus,
} from './trial-state.ts';

const [P, Q, R, F, X, C] = TRIAL_STATUSES;

/** Every allowed (from, to) per cause, written out by hand; every pair not listed is refused. */
const ALLOWED: Record<Cause, [TrialStatus, TrialStatus][]> = {
  controller: [
    // start an attempt
    [P, Q],
    [Q, Q],
    [F, Q],
    [X, Q],
    // the run succeeded
    [Q, C],
    [R, C],
    // retry
    [Q, P],
    [R, P],
    [F, P],
    // fail (a pending trial: its dependency failed)
    [P, F],
    [Q, F],
    [R, F],
    [F, F],
  ],
  worker: [
    [P, R],
    [Q, R],
    [P, F],
    [Q, F],
    [R, F],
    [P, C],
    [Q, C],
    [R, C],
    [F, C],
    [X, C],
  ],
  admin: [
    // cancel
    [P, X],
    [Q, X],
    [R, X],
    // retry failed trials
    [F, P],
    // resume a cancelled sweep (its Sweep object created anew)
    [X, P],
    // requeue what a killed `esweep run` left
    [Q, P],
    [R, P],
  ],
};

describe('trial state machine', () => {
  for (const cause of CAUSES) {
    it(`allows exactly the listed transitions caused by the ${cause}`, () => {
      const allowed = new Set(ALLOWED[cause].map(([from, to]) => `${from}→${to}`));
      for (const from of TRIAL_STATUSES) {
        for (const to of TRIAL_STATUSES) {
          assert.equal(
            mayTransition(from, to, cause),
            allowed.has(`${from}→${to}`),
            `${cause}: ${from} → ${to}`,
          );
        }
      }
    });
  }

  it('ranks statuses in declaration order; events only report running, failed or completed', () => {
    assert.deepEqual(
      TRIAL_STATUSES.map(statusRank),
      TRIAL_STATUSES.map((_, i) => i),
    );
    assert.equal(higherStatus('completed', 'failed'), 'completed');
    assert.equal(higherStatus('queued', 'running'), 'running');
    assert.deepEqual(
      ['started', 'progress', 'metrics', 'heartbeat', 'sparsity', 'failed', 'completed'].map(eventStatus),
      ['running', 'running', 'running', 'running', 'running', 'failed', 'completed'],
    );
    assert.deepEqual(notFromStatuses('start'), ['running', 'completed']);
  });

  it('is the order of the TrialStatus enum in prisma/schema.prisma', () => {
    const schema = readFileSync(join(PROJECT_ROOT, 'prisma/schema.prisma'), 'utf8');
    const body = /enum TrialStatus \{([^}]*)\}/.exec(schema)?.[1] ?? '';
    const values = body
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[a-z]+$/.test(line));
    assert.deepEqual(values, [...TRIAL_STATUSES]);
  });

  it('merges a batch of events in any order to the highest status, as the database does', () => {
    const header = { v: 1 as const, sweepId: 's', trialId: 't', attempt: 1, time: '2026-01-01T00:00:00Z' };
    const completed = {
      ...header,
      seq: 1,
      kind: 'completed' as const,
      accuracy: 0.9,
      directSparsity: 0.9,
      effectiveSparsity: 0.9,
    };
    const started = { ...header, seq: 0, kind: 'started' as const };
    assert.equal(aggregateAttempts([completed, started])[0]?.status, 'completed');
    assert.equal(aggregateAttempts([started])[0]?.status, 'running');
  });

  describe('in the database', () => {
    let db: TestDatabase;
    before(async () => {
      db = await createTestDatabase('trial_state');
    });
    after(async () => {
      await db?.dispose();
    });

    it('trial_status is declared in rank order, so GREATEST picks the higher status', async () => {
      const declared = await db.prisma.$queryRaw<{ s: string }[]>`
        SELECT unnest(enum_range(NULL::trial_status))::text AS s`;
      assert.deepEqual(
        declared.map((r) => r.s),
        [...TRIAL_STATUSES],
      );
      const pairs = TRIAL_STATUSES.flatMap((a) => TRIAL_STATUSES.map((b) => [a, b] as const));
      const greatest = await db.prisma.$queryRaw<{ g: string }[]>`
        SELECT GREATEST(a, b)::text AS g
        FROM unnest(${pairs.map((p) => p[0])}::text[]::trial_status[], ${pairs.map((p) => p[1])}::text[]::trial_status[])
          WITH ORDINALITY AS v(a, b, n) ORDER BY n`;
      assert.deepEqual(
        greatest.map((r) => r.g),
        pairs.map(([a, b]) => higherStatus(a, b)),
      );
    });
  });
});
