import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunRequest } from '../scheduler/backend.ts';
import { runName } from '../scheduler/names.ts';
import { createTestDatabase, type TestDatabase, testSweepSpec, trialInput } from '../store/test-support.ts';
import { Controller, type DecisionEntry, FencedError } from './controller.ts';
import { RecordingBackend } from './test-support.ts';

describe('controller: one log line per decision, and the fence', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('ctl_decisions');
  });
  after(() => db.dispose());

  const submit = async (name: string, trials: number, maxParallel: number) =>
    (
      await db.store.submitSweep(
        { name, spec: testSweepSpec(name), backend: 'local', maxParallel, retries: 1 },
        Array.from({ length: trials }, (_, i) => trialInput(i, { key: `t${i}` })),
      )
    ).sweep;

  test('create, retry, complete and delete each say which trial, attempt and run, and why', async () => {
    const sweep = await submit('ctl-decisions', 3, 2);
    const backend = new RecordingBackend();
    const lines: Record<string, unknown>[] = [];
    let clock = Date.now();
    const controller = new Controller(db.store, backend, {
      retryBaseMs: 1000,
      now: () => clock,
      log: (entry) => lines.push(entry),
    });
    const decisions = () => lines.filter((l) => 'decision' in l) as unknown as DecisionEntry[];
    const run = (key: string, attempt: number) => runName('ctl-decisions', key, attempt);

    await controller.reconcile();
    assert.deepEqual(
      decisions().map(({ decision, trial, attempt, run, reason, result, sweep }) => [
        decision,
        sweep,
        trial,
        attempt,
        run,
        reason,
        result,
      ]),
      [
        ['create', 'ctl-decisions', 't0', 1, run('t0', 1), 'first attempt', 'created'],
        ['create', 'ctl-decisions', 't1', 1, run('t1', 1), 'first attempt', 'created'],
      ],
    );

    lines.length = 0;
    backend.setPhase(run('t0', 1), 'failed', 'exit code 1');
    backend.setPhase(run('t1', 1), 'succeeded');
    await controller.reconcile();
    clock = Date.now() + 2000; // the retry's backoff is over
    await controller.reconcile();
    assert.deepEqual(
      decisions().map(({ decision, trial, attempt, reason }) => [decision, trial, attempt, reason]),
      [
        ['retry', 't0', 1, 'exit code 1'],
        ['complete', 't1', 1, 'its run succeeded'],
        ['create', 't2', 1, 'first attempt'],
        ['create', 't0', 2, 'retry'],
      ],
    );

    // A run whose trial was decided meanwhile (the worker reported it) finishes on its own.
    lines.length = 0;
    const t2 = (await db.store.listTrials(sweep.id)).find((x) => x.key === 't2')!;
    await db.prisma.trial.update({ where: { id: t2.id }, data: { status: 'completed' } });
    await controller.reconcile();
    assert.deepEqual(decisions(), [], 'not deleted while it finishes');
    assert.deepEqual(backend.cancelled, []);

    // A cancelled sweep's runs are orphans: deleted, with the reason.
    lines.length = 0;
    await db.store.cancelSweep(sweep.id);
    await controller.reconcile();
    const gone = 'its sweep is no longer active (finished, cancelled or deleted)';
    assert.deepEqual(
      decisions()
        .map(({ decision, run, reason }) => [decision, run, reason])
        .sort(),
      [
        ['delete', run('t0', 2), gone],
        ['delete', run('t2', 1), gone],
      ].sort(),
    );
    assert.deepEqual(backend.cancelled.sort(), [run('t0', 2), run('t2', 1)].sort());
  });

  test('a controller that may no longer act stops its pass at the next write, without counting an error', async () => {
    const sweep = await submit('ctl-fenced', 4, 4);
    const backend = new RecordingBackend();
    let leading = true;
    const create = backend.create.bind(backend);
    backend.create = async (request: RunRequest) => {
      const result = await create(request);
      leading = false; // the fence fell while this create was in flight
      return result;
    };
    const lines: Record<string, unknown>[] = [];
    const controller = new Controller(db.store, backend, {
      debounceMs: 10,
      resyncMs: 50,
      createConcurrency: 1,
      mayAct: () => leading,
      log: (entry) => lines.push(entry),
    });
    await assert.rejects(controller.reconcile(), FencedError);
    assert.equal(backend.created.length, 1);
    await controller.start();
    try {
      await controller.idle();
      await new Promise((resolve) => setTimeout(resolve, 200)); // several resyncs
      assert.equal(backend.created.length, 1, 'no write after the fence');
      assert.equal(controller.metrics.reconcileErrors, 0);
      assert.ok(lines.some((l) => l.msg === 'pass stopped: no longer the leader'));
      // Attempts were recorded before the fence: a successor creates their runs under the same names.
      assert.equal((await db.store.statusCounts(sweep.id)).queued, 4);
    } finally {
      await controller.stop();
    }
  });
});
