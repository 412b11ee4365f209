// Embedded mode: PGlite in a directory, the in-process transport, worker child processes reporting
// over IPC — and the same ingest code as the cluster.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bridgeChild } from '../events/ipc.ts';
import { openDatabase } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';
import { storeOf } from '../store/prisma-store.ts';
import { createPgliteDatabase, testSweepSpec, trialInput } from '../store/test-support.ts';
import { startEmbeddedPipeline } from './embedded.ts';

describe('embedded mode', () => {
  it('ingests child workers’ events into PGlite under a directory, and keeps them across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-embedded-'));
    try {
      let db = await openDatabase(`pglite:${join(dir, 'db')}`);
      await migrate(db);
      const store = storeOf(db);
      const { sweep } = await store.submitSweep({ name: 'local', spec: testSweepSpec('local') }, [
        trialInput(0),
        trialInput(1),
      ]);
      const trials = await store.listTrials(sweep.id);
      const pipeline = startEmbeddedPipeline(store);
      const exits = trials.map((trial) => {
        const child = fork(join(import.meta.dirname, 'embedded-worker.fixture.ts'), [sweep.id, trial.id], {
          execArgv: ['--import', 'tsx'],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        bridgeChild(child, pipeline.transport);
        // 'close' fires once the IPC channel has delivered every message, 'exit' may come before.
        return new Promise<number | null>((resolve) => child.once('close', resolve));
      });
      assert.deepEqual(await Promise.all(exits), [0, 0]);
      await pipeline.stop();
      assert.equal(pipeline.ingester.stats.deadLetters, 0);
      await db.close();

      db = await openDatabase(`pglite:${join(dir, 'db')}`);
      const again = storeOf(db);
      assert.deepEqual((await again.statusCounts(sweep.id)).completed, 2);
      const curves = await again.trialCurves(trials[0]!.id);
      assert.equal(curves?.curves.loss?.length, 500);
      assert.equal(
        (await db.prisma.layerSparsity.findMany({ where: { trialId: trials[1]!.id } }))[0]?.effective,
        2000n,
      );
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drain waits for a message the ingester gave back for later, not only for the ingester to idle', async () => {
    const db = await createPgliteDatabase();
    let deadLetters = 0;
    const pipeline = startEmbeddedPipeline(db.store, {
      transport: {
        // The first publication of the dead letter fails: the ingester naks it for a second, idle meanwhile.
        onDeadLetter: () => {
          if (++deadLetters === 1) throw new Error('dead-letter stream unavailable');
        },
      },
    });
    try {
      const data = new TextEncoder().encode('not an event');
      await pipeline.transport.send({ subject: 'esweep.events.s.t', data, msgId: 'garbage' });
      await pipeline.drain();
      assert.equal(deadLetters, 2, 'drained only after the redelivered message was dead-lettered');
      assert.equal(pipeline.transport.pending, 0);
      assert.equal(pipeline.ingester.idle, true);
      assert.equal(await db.prisma.deadLetter.count(), 1);
    } finally {
      await pipeline.stop();
      await db.close();
    }
  });
});
