// The same store, event-write and query tests on PostgreSQL (a fresh database on the local
// server) and on PGlite (the embedded mode).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TrialEvent } from '../events/protocol.ts';
import { compareResults, interpolateLog, logGrid } from '../query/index.ts';
import { writeEvents } from './event-writes.ts';
import {
  createPgliteDatabase,
  createTestDatabase,
  type TestDatabase,
  testSweepSpec,
  trialInput,
} from './test-support.ts';

type Header = Pick<TrialEvent, 'sweepId' | 'trialId' | 'attempt'>;
let clock = Date.parse('2026-01-01T00:00:00Z');
function ev(h: Header, seq: number, body: Record<string, unknown>): TrialEvent {
  clock += 1000;
  return { v: 1, ...h, seq, time: new Date(clock).toISOString(), ...body } as TrialEvent;
}
const completedBody = (accuracy: number, effectiveCompression: number | null = 20) => ({
  kind: 'completed',
  accuracy,
  bestAccuracy: accuracy,
  loss: 0.1,
  seconds: 3,
  directSparsity: 0.9,
  effectiveSparsity: effectiveCompression === null ? 1 : 1 - 1 / effectiveCompression,
  directCompression: 10,
  effectiveCompression,
});

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`store, event writes and queries on ${backend}`, () => {
    let db: TestDatabase;
    before(async () => {
      db = backend === 'postgres' ? await createTestDatabase('repo') : await createPgliteDatabase();
    });
    after(async () => {
      await db?.dispose();
    });

    it('submits a sweep idempotently and adds only new trials of an edited one', async () => {
      const trials = [
        trialInput(0, { pruner: 'dense' }),
        trialInput(1, { pruner: 'magnitude/global', dependsOnKey: 'k0' }),
      ];
      const first = await db.store.submitSweep(
        { name: 'idem', spec: testSweepSpec('idem', { retries: 1 }) },
        trials,
      );
      assert.equal(first.created, true);
      assert.equal(first.addedTrials, 2);
      const again = await db.store.submitSweep(
        { name: 'idem', spec: testSweepSpec('idem', { retries: 1 }) },
        trials,
      );
      assert.equal(again.created, false);
      assert.equal(again.addedTrials, 0);
      assert.equal(again.sweep.id, first.sweep.id);
      const edited = await db.store.submitSweep(
        { name: 'idem', spec: testSweepSpec('idem', { retries: 2 }) },
        [...trials, trialInput(2)],
      );
      assert.equal(edited.addedTrials, 1);
      assert.equal(edited.totalTrials, 3);
      assert.deepEqual((await db.store.findSweep('idem'))?.spec, testSweepSpec('idem', { retries: 2 }));
      // The plain-SQL read returns every column Prisma's row has, under the same names.
      const row = await db.prisma.sweep.findUniqueOrThrow({ where: { name: 'idem' } });
      assert.deepEqual(Object.keys((await db.store.findSweep('idem'))!).sort(), Object.keys(row).sort());
      const listed = await db.store.listTrials(first.sweep.id);
      assert.deepEqual(
        listed.map((t) => t.key),
        ['k0', 'k1', 'k2'],
      );
      assert.equal(listed[1]!.dependsOnId, listed[0]!.id);
      await assert.rejects(
        db.store.submitSweep({ name: 'bad', spec: testSweepSpec('bad') }, [
          trialInput(0, { dependsOnKey: 'nope' }),
        ]),
        /depends on nope/,
      );
    });

    it('starts attempts, counts states, cancels', async () => {
      const { sweep } = await db.store.submitSweep(
        { name: 'attempts', spec: testSweepSpec('attempts') },
        [0, 1, 2].map((i) => trialInput(i)),
      );
      const [a, b] = await db.store.listTrials(sweep.id);
      const attempt = await db.store.startAttempt(a!.id, (n) => `job-${n}`);
      assert.equal(attempt.number, 1);
      assert.equal(attempt.status, 'queued');
      assert.equal(attempt.jobName, 'job-1');
      const trial = await db.store.getTrial(a!.id);
      assert.equal(trial?.status, 'queued');
      assert.equal(trial?.attempts, 1);
      await db.store.markTrial(b!.id, 'failed', { error: 'boom', retryable: true });
      assert.deepEqual(await db.store.statusCounts(sweep.id), {
        pending: 1,
        queued: 1,
        running: 0,
        failed: 1,
        cancelled: 0,
        completed: 0,
      });
      const again = await db.store.startAttempt(b!.id);
      assert.equal(again.number, 1);
      assert.equal(await db.store.cancelSweep(sweep.id), 3);
      assert.equal((await db.store.findSweep(sweep.id))?.status, 'cancelled');
      assert.equal((await db.store.listAttempts(a!.id))[0]?.status, 'cancelled');
    });

    it('stores where an attempt ran from its started event, and the results say it', async () => {
      const { sweep } = await db.store.submitSweep(
        { name: 'provenance', spec: testSweepSpec('provenance') },
        [trialInput(0), trialInput(1)],
      );
      const [t0, t1] = await db.store.listTrials(sweep.id);
      const h0 = { sweepId: sweep.id, trialId: t0!.id, attempt: 1 };
      const provenance = {
        gpu: true,
        device: 'NVIDIA H100 80GB HBM3',
        tfjsVersion: '4.22.0',
        libtensorflowVersion: '2.18.0',
        imageTag: 'esweep-worker:test',
      };
      await writeEvents(db.prisma, [
        ev(h0, 0, { kind: 'started', host: 'gpu-node-1', backend: 'gpu', provenance }),
      ]);
      // A later event without provenance (a replayed started of an older worker) keeps what is stored.
      await writeEvents(db.prisma, [
        ev(h0, 1, { kind: 'started', backend: 'gpu' }),
        ev(h0, 5, completedBody(0.9)),
      ]);
      const [attempt] = await db.store.listAttempts(t0!.id);
      assert.deepEqual(attempt?.provenance, provenance);
      const rows = await db.store.sweepResults(sweep.id);
      const ranOn = (id: string) => rows.find((r) => r.trialId === id)?.ranOn;
      assert.deepEqual(ranOn(t0!.id), { backend: 'gpu', device: 'NVIDIA H100 80GB HBM3', gpu: true });
      assert.equal(ranOn(t1!.id), null, 'a trial that has not started ran nowhere yet');
    });

    it('derives trial status from events, monotonically, whatever their order or repetition', async () => {
      const { sweep } = await db.store.submitSweep(
        { name: 'status', spec: testSweepSpec('status') },
        [0, 1, 2].map((i) => trialInput(i)),
      );
      const [t0, t1, t2] = await db.store.listTrials(sweep.id);
      const h0 = { sweepId: sweep.id, trialId: t0!.id, attempt: 1 };
      // completed before started, in separate batches
      const started = ev(h0, 0, { kind: 'started', host: 'node-1' });
      const completed = ev(h0, 5, completedBody(0.91));
      const out1 = await writeEvents(db.prisma, [completed]);
      assert.equal(out1.inserted, 1);
      assert.equal((await db.store.getTrial(t0!.id))?.status, 'completed');
      await writeEvents(db.prisma, [started, ev(h0, 1, { kind: 'progress', step: 7, totalSteps: 10 })]);
      const trial0 = await db.store.getTrial(t0!.id);
      assert.equal(trial0?.status, 'completed');
      assert.equal(trial0?.attempts, 1);
      assert.ok(
        trial0?.startedAt && trial0.startedAt.getTime() === Date.parse(started.time),
        'trial0?.startedAt && trial0.startedAt.getTime() === Date.parse(started.time)',
      );
      const [attempt0] = await db.store.listAttempts(t0!.id);
      assert.equal(attempt0?.status, 'completed');
      assert.equal(attempt0?.host, 'node-1');
      assert.equal(attempt0?.step, 7);
      // the same events again: nothing changes, all counted as duplicates
      const replay = await writeEvents(db.prisma, [completed, started, completed]);
      assert.deepEqual([replay.inserted, replay.duplicates], [0, 3]);
      assert.equal(await db.prisma.event.count({ where: { trialId: t0!.id } }), 3);
      const result = await db.prisma.result.findUnique({ where: { trialId: t0!.id } });
      assert.equal(result?.accuracy, 0.91);

      // failed then completed (same attempt) → completed; completed then failed → still completed
      const h1 = { sweepId: sweep.id, trialId: t1!.id, attempt: 1 };
      await writeEvents(db.prisma, [
        ev(h1, 0, { kind: 'started' }),
        ev(h1, 3, { kind: 'failed', error: 'oom', retryable: true }),
      ]);
      let trial1 = await db.store.getTrial(t1!.id);
      assert.equal(trial1?.status, 'failed');
      assert.equal(trial1?.error, 'oom');
      await writeEvents(db.prisma, [ev(h1, 2, completedBody(0.5))]);
      trial1 = await db.store.getTrial(t1!.id);
      assert.equal(trial1?.status, 'completed');
      assert.equal(trial1?.error, null);

      // attempts: the controller starts attempt 2; a late event of attempt 1 leaves the trial alone;
      // an event of an attempt the controller never recorded (3) is refused (stale-attempt).
      await db.store.startAttempt(t2!.id);
      const h2 = { sweepId: sweep.id, trialId: t2!.id };
      await writeEvents(db.prisma, [ev({ ...h2, attempt: 1 }, 0, { kind: 'started' })]);
      await writeEvents(db.prisma, [
        ev({ ...h2, attempt: 1 }, 1, { kind: 'failed', error: 'lost', retryable: true }),
      ]);
      assert.equal((await db.store.getTrial(t2!.id))?.status, 'failed');
      await db.store.startAttempt(t2!.id);
      assert.equal((await db.store.getTrial(t2!.id))?.status, 'queued');
      await writeEvents(db.prisma, [ev({ ...h2, attempt: 1 }, 2, { kind: 'heartbeat' })]);
      assert.equal((await db.store.getTrial(t2!.id))?.status, 'queued');
      const stray = await writeEvents(db.prisma, [ev({ ...h2, attempt: 3 }, 0, { kind: 'started' })]);
      assert.deepEqual(
        stray.rejected.map((r) => r.reason),
        ['stale-attempt'],
      );
      const trial2 = await db.store.getTrial(t2!.id);
      assert.equal(trial2?.attempts, 2);
      assert.equal(trial2?.status, 'queued');
      assert.deepEqual(
        (await db.store.listAttempts(t2!.id)).map((a) => [a.number, a.status]),
        [
          [1, 'failed'],
          [2, 'queued'],
        ],
      );
    });

    it('rejects events of unknown trials or of the wrong sweep', async () => {
      const { sweep } = await db.store.submitSweep({ name: 'unknown', spec: testSweepSpec('unknown') }, [
        trialInput(0),
      ]);
      const [t] = await db.store.listTrials(sweep.id);
      const out = await writeEvents(db.prisma, [
        ev({ sweepId: sweep.id, trialId: 'nope', attempt: 1 }, 0, { kind: 'started' }),
        ev({ sweepId: 'other', trialId: t!.id, attempt: 1 }, 0, { kind: 'started' }),
      ]);
      assert.equal(out.inserted, 0);
      assert.deepEqual(
        out.rejected.map((r) => r.reason),
        ['unknown-trial', 'unknown-trial'],
      );
      assert.equal((await db.store.getTrial(t!.id))?.status, 'pending');
    });

    it('stores curves, layer counts and infinite compression; queries results, comparisons and curves', async () => {
      const pruners = ['snip', 'synflow'];
      const targets = [10, 100, 1000];
      const trials = pruners.flatMap((pruner) =>
        targets.flatMap((c) =>
          [0, 1].map((seed) =>
            trialInput(0, {
              key: `${pruner}-${c}-${seed}`,
              pruner,
              seed,
              targetCompression: c,
              targetSparsity: 1 - 1 / c,
            }),
          ),
        ),
      );
      trials.push(trialInput(0, { key: 'dead', pruner: 'snip', seed: 0, targetCompression: 1e4 }));
      const { sweep } = await db.store.submitSweep({ name: 'query', spec: testSweepSpec('query') }, trials);
      const rows = await db.store.listTrials(sweep.id);
      const events: TrialEvent[] = [];
      for (const t of rows) {
        const h = { sweepId: sweep.id, trialId: t.id, attempt: 1 };
        // accuracy falls with log10(compression); snip is 0.1 better; seed 1 is 0.02 better
        const c = t.key === 'dead' ? null : t.targetCompression * (t.seed === 0 ? 1 : 1.5);
        const acc =
          c === null
            ? 0.1
            : 0.95 - 0.1 * Math.log10(c) + (t.pruner === 'snip' ? 0.1 : 0) + (t.seed === 1 ? 0.02 : 0);
        events.push(ev(h, 0, { kind: 'started' }));
        events.push(
          ev(h, 1, {
            kind: 'metrics',
            points: [
              { step: 10, name: 'loss', value: 1 },
              { step: 10, name: 'accuracy', value: 0.5 },
              { step: 20, name: 'loss', value: 0.5 },
            ],
          }),
        );
        events.push(
          ev(h, 2, {
            kind: 'sparsity',
            layers: [
              { name: 'fc1', shape: [300, 784], params: 235200, direct: 23520, effective: 20000 },
              { name: 'fc2', shape: [100, 300], params: 30000, direct: 3000, effective: 0 },
            ],
            overall: { directSparsity: 0.9, effectiveSparsity: 0.92 },
          }),
        );
        events.push(ev(h, 3, completedBody(acc, c)));
      }
      const out = await writeEvents(db.prisma, events);
      assert.equal(out.inserted, events.length);
      assert.equal(out.points, rows.length * 3);

      const results = await db.store.sweepResults(sweep.id);
      assert.equal(results.length, rows.length);
      const dead = results.find((r) => r.key === 'dead');
      assert.equal(dead?.effectiveCompression, Number.POSITIVE_INFINITY);
      assert.equal(JSON.parse(JSON.stringify(dead)).effectiveCompression, null);
      assert.equal(results.filter((r) => r.pruner === 'synflow').length, 6);

      const [view] = await db.prisma.$queryRaw<{ n: bigint }[]>`
        SELECT count(*) AS n FROM layer_sparsity_view WHERE sweep_id = ${sweep.id} AND effective_sparsity = 1`;
      assert.equal(Number(view!.n), rows.length);

      const comparison = compareResults(results, { grid: [15, 100] });
      const arch = comparison.archs[0]!;
      assert.deepEqual(
        arch.series.map((s) => s.pruner),
        ['snip', 'synflow'],
      );
      const synflow = arch.series.find((s) => s.pruner === 'synflow')!;
      // at 15: seed 0 interpolates between 10 and 100, seed 1 (15, 150, 1500) hits 15 exactly
      const expected0 = 0.95 - 0.1 * Math.log10(15);
      const expected1 = 0.95 - 0.1 * Math.log10(15) + 0.02;
      assert.ok(
        Math.abs(synflow.points[0]!.mean! - (expected0 + expected1) / 2) < 1e-9,
        'Math.abs(synflow.points[0]!.mean! - (expected0 + expected1) / 2) < 1e-9',
      );
      assert.ok(
        Math.abs(synflow.points[0]!.std! - Math.abs(expected1 - expected0) / Math.SQRT2) < 1e-9,
        'Math.abs(synflow.points[0]!.std! - Math.abs(expected1 - expected0) / Math.SQRT2)',
      );
      assert.equal(synflow.points[0]!.n, 2);
      const snip = arch.series.find((s) => s.pruner === 'snip')!;
      assert.ok(
        Math.abs(snip.points[1]!.mean! - synflow.points[1]!.mean! - 0.1) < 1e-9,
        'Math.abs(snip.points[1]!.mean! - synflow.points[1]!.mean! - 0.1) < 1e-9',
      );

      const curves = await db.store.trialCurves(rows[0]!.id);
      assert.deepEqual(curves?.curves.loss, [
        { step: 10, value: 1 },
        { step: 20, value: 0.5 },
      ]);
      assert.equal(await db.store.trialCurves('nope'), null);
    });
  });
}

describe('query helpers', () => {
  it('interpolates on log-compression without extrapolating', () => {
    const curve = [
      { x: Math.log(10), y: 0.9 },
      { x: Math.log(1000), y: 0.5 },
    ];
    assert.ok(
      Math.abs(interpolateLog(curve, 100)! - 0.7) < 1e-12,
      'Math.abs(interpolateLog(curve, 100)! - 0.7) < 1e-12',
    );
    assert.equal(interpolateLog(curve, 5), undefined);
    assert.equal(interpolateLog(curve, 2000), undefined);
    assert.equal(interpolateLog(curve, 1000), 0.5);
    const grid = logGrid(10, 1e4, 4);
    assert.deepEqual(
      grid.map((g) => Math.round(g)),
      [10, 100, 1000, 10000],
    );
  });
});
