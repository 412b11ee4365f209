// The Sweep objects' reconciler against an in-memory API (generation, finalizers, deletion as the API
// server does them) and a real Postgres database.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RunStatus } from '../scheduler/backend.ts';
import { createTestDatabase, type TestDatabase } from '../store/test-support.ts';
import { SWEEP_FINALIZER, type SweepObject, type SweepResourceStatus } from '../sweep/resource.ts';
import { type RunCanceller, type SweepObjectApi, SweepResources } from './sweep-resources.ts';

/** The parts of the API server the reconciler relies on, in memory. */
class MemoryApi implements SweepObjectApi {
  readonly store = new Map<string, SweepObject>();
  statusWrites = 0;
  private listeners = new Set<() => void>();

  async start(): Promise<void> {}
  objects(): SweepObject[] {
    return [...this.store.values()].map((o) => structuredClone(o));
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private changed(): void {
    for (const l of this.listeners) l();
  }
  create(name: string, spec: unknown, namespace = 'team-a'): SweepObject {
    const object: SweepObject = {
      metadata: { name, namespace, uid: randomUUID(), generation: 1, finalizers: [] },
      spec,
    };
    this.store.set(`${namespace}/${name}`, object);
    this.changed();
    return object;
  }
  editSpec(name: string, spec: unknown, namespace = 'team-a'): void {
    const object = this.store.get(`${namespace}/${name}`)!;
    object.spec = spec;
    object.metadata.generation = (object.metadata.generation ?? 0) + 1;
    this.changed();
  }
  delete(name: string, namespace = 'team-a'): void {
    const object = this.store.get(`${namespace}/${name}`)!;
    if ((object.metadata.finalizers ?? []).length === 0) this.store.delete(`${namespace}/${name}`);
    else object.metadata.deletionTimestamp = new Date().toISOString();
    this.changed();
  }
  get(name: string, namespace = 'team-a'): SweepObject | undefined {
    return this.store.get(`${namespace}/${name}`);
  }
  async setFinalizers(object: SweepObject, finalizers: string[]): Promise<void> {
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    const stored = this.store.get(key);
    if (!stored) return;
    stored.metadata.finalizers = finalizers;
    if (stored.metadata.deletionTimestamp && finalizers.length === 0) this.store.delete(key);
    this.changed();
  }
  async writeStatus(object: SweepObject, status: SweepResourceStatus): Promise<void> {
    const stored = this.store.get(`${object.metadata.namespace}/${object.metadata.name}`);
    if (!stored) return;
    stored.status = structuredClone(status);
    this.statusWrites++;
  }
}

const SPEC = {
  architectures: ['lenet300100'],
  pruners: ['snip', 'synflow'],
  compressions: [10, 100],
  budget: { iterations: 20 },
  resources: { gpu: 0 },
};

const accepted = (object: SweepObject | undefined) =>
  object?.status?.conditions?.find((c) => c.type === 'Accepted');

describe('Sweep objects reconciled into the database', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sweep_resources');
  });
  after(async () => {
    await db?.dispose();
  });

  /** A reconciler whose store counts the expansions it asks for. */
  function reconciler(api: SweepObjectApi, runs: RunCanceller | null = null) {
    const submits: number[] = [];
    const store = {
      ...db.store,
      findSweep: db.store.findSweep.bind(db.store),
      cancelSweep: db.store.cancelSweep.bind(db.store),
      releaseSweep: db.store.releaseSweep.bind(db.store),
      resumeCancelledTrials: db.store.resumeCancelledTrials.bind(db.store),
      statusCountsBySweep: db.store.statusCountsBySweep.bind(db.store),
      sweepResults: db.store.sweepResults.bind(db.store),
      submitSweep: async (...args: Parameters<typeof db.store.submitSweep>) => {
        const result = await db.store.submitSweep(...args);
        submits.push(result.addedTrials);
        return result;
      },
    };
    return { sweeps: new SweepResources(api, store, runs), submits };
  }

  test('a new object is expanded once: a second controller and a restart add nothing', async () => {
    const api = new MemoryApi();
    api.create('once', SPEC);
    const first = reconciler(api);
    await first.sweeps.reconcile();
    const object = api.get('once')!;
    assert.deepEqual(object.metadata.finalizers, [SWEEP_FINALIZER]);
    assert.equal(object.status?.phase, 'Pending');
    assert.equal(object.status?.progress, '0/4', '2 pruners × 2 compressions');
    assert.equal(object.status?.counts?.pending, 4);
    assert.equal(accepted(object)?.reason, 'Expanded');
    assert.equal(object.status?.observedGeneration, 1);
    assert.deepEqual(first.submits, [4]);

    // A second controller that saw the object before the first wrote its status expands again: nothing new.
    const stale = new MemoryApi();
    stale.store.set('team-a/once', { ...structuredClone(object), status: undefined });
    const second = reconciler(stale);
    await second.sweeps.reconcile();
    assert.deepEqual(second.submits, [0]);

    // A restarted controller reads the status: the generation is expanded, no submit at all.
    const restarted = reconciler(api);
    await restarted.sweeps.reconcile();
    assert.deepEqual(restarted.submits, []);
    const sweep = await db.store.findSweep('once');
    assert.equal((await db.store.listTrials(sweep!.id)).length, 4);
    assert.equal(sweep!.resourceUid, object.metadata.uid);
  });

  test('the status is written only when it changed', async () => {
    const api = new MemoryApi();
    api.create('quiet', SPEC);
    const { sweeps } = reconciler(api);
    await sweeps.reconcile();
    const writes = api.statusWrites;
    await sweeps.reconcile();
    await sweeps.reconcile();
    assert.equal(api.statusWrites, writes);
    const sweep = (await db.store.findSweep('quiet'))!;
    const [trial] = await db.store.listTrials(sweep.id);
    await db.store.startAttempt(trial.id);
    await sweeps.reconcile();
    assert.equal(api.statusWrites, writes + 1);
    assert.equal(api.get('quiet')?.status?.counts?.queued, 1);
  });

  test('an invalid spec gets an Invalid condition naming the field, and no sweep', async () => {
    const api = new MemoryApi();
    api.create('typo', { ...SPEC, pruners: ['snip', 'snipp'] });
    api.create('spec-name', { ...SPEC, name: 'other' });
    const { sweeps, submits } = reconciler(api);
    await sweeps.reconcile();
    await sweeps.reconcile();
    const typo = api.get('typo')!;
    assert.equal(typo.status?.phase, 'Invalid');
    assert.equal(accepted(typo)?.status, 'False');
    assert.equal(accepted(typo)?.reason, 'Invalid');
    assert.match(accepted(typo)!.message, /^spec: pruners\[1\]: unknown pruner 'snipp'/);
    assert.match(accepted(api.get('spec-name'))!.message, /^spec\.name: must equal metadata\.name/);
    assert.deepEqual(submits, []);
    assert.equal(await db.store.findSweep('typo'), null);
    assert.deepEqual(typo.metadata.finalizers, [], 'nothing to clean up, no finalizer');
  });

  test('an edit adds only the new trials; an edit of a fixed field is refused with a condition', async () => {
    const api = new MemoryApi();
    api.create('edited', SPEC);
    const { sweeps, submits } = reconciler(api);
    await sweeps.reconcile();
    api.editSpec('edited', { ...SPEC, compressions: [10, 100, 1000] });
    await sweeps.reconcile();
    assert.deepEqual(submits, [4, 2]);
    assert.equal(api.get('edited')?.status?.counts?.total, 6);
    assert.equal(api.get('edited')?.status?.observedGeneration, 2);

    api.editSpec('edited', { ...SPEC, compressions: [10, 100, 1000], budget: { iterations: 50 } });
    await sweeps.reconcile();
    const refused = api.get('edited')!;
    assert.equal(accepted(refused)?.reason, 'SpecChangeRefused');
    assert.match(accepted(refused)!.message, /spec\.budget cannot change/);
    assert.equal(refused.status?.observedGeneration, 3);
    assert.equal(refused.status?.phase, 'Pending', 'the sweep goes on with its previous spec');
    assert.deepEqual(submits, [4, 2]);
    const sweep = (await db.store.findSweep('edited'))!;
    assert.deepEqual(sweep.spec.budget, { iterations: 20 });
  });

  test('deleting the object cancels the sweep and its runs, keeps results, then lets it go', async () => {
    const api = new MemoryApi();
    api.create('doomed', SPEC);
    const cancelled: string[] = [];
    const runs: RunCanceller = {
      runs: () => [],
      cancel: async (name) => {
        cancelled.push(name);
      },
    };
    const { sweeps } = reconciler(api, runs);
    await sweeps.reconcile();
    const sweep = (await db.store.findSweep('doomed'))!;
    const [done, running] = await db.store.listTrials(sweep.id);
    await db.store.startAttempt(done.id);
    await db.store.markTrial(done.id, 'completed');
    const attempt = await db.store.startAttempt(running.id, (n) => `doomed-run-${n}`);
    const active: RunStatus = {
      name: attempt.jobName!,
      sweepId: sweep.id,
      trialId: running.id,
      attempt: attempt.number,
      phase: 'running',
      badInput: false,
    };
    runs.runs = () => [active, { ...active, name: 'other-sweep-run', sweepId: 'elsewhere' }];
    api.delete('doomed');
    assert.ok(api.get('doomed'), 'the finalizer holds the object');
    await sweeps.reconcile();
    assert.equal(api.get('doomed'), undefined, 'finalizer removed: the object is gone');
    assert.deepEqual(cancelled, [active.name]);
    const counts = await db.store.statusCounts(sweep.id);
    assert.equal(counts.completed, 1, 'the finished result is kept');
    assert.equal(counts.cancelled, 3);
    const after = (await db.store.findSweep('doomed'))!;
    assert.equal(after.status, 'cancelled');
    assert.equal(after.resourceUid, null, 'released for a new object of that name');

    // Created anew, the object adopts the sweep and resumes its cancelled trials.
    api.create('doomed', SPEC);
    await sweeps.reconcile();
    const again = (await db.store.findSweep('doomed'))!;
    assert.equal(again.resourceUid, api.get('doomed')!.metadata.uid);
    const resumed = await db.store.statusCounts(sweep.id);
    assert.deepEqual([resumed.completed, resumed.pending, resumed.cancelled], [1, 3, 0]);
  });

  test('a second object of the same name (another namespace) cannot take the sweep', async () => {
    const api = new MemoryApi();
    api.create('shared', SPEC, 'team-a');
    api.create('shared', SPEC, 'team-b');
    const { sweeps, submits } = reconciler(api);
    await sweeps.reconcile();
    assert.deepEqual(submits, [4]);
    const other = api.get('shared', 'team-b')!;
    assert.equal(other.status?.phase, 'Invalid');
    assert.match(accepted(other)!.message, /^metadata\.name: sweep 'shared' belongs to another Sweep object/);
  });

  test('start and stop may be called repeatedly; it follows changes while started', async () => {
    const api = new MemoryApi();
    const { sweeps } = reconciler(api);
    await sweeps.start();
    await sweeps.start();
    const idle = sweeps.idle();
    api.create('live', SPEC);
    await idle;
    assert.equal(api.get('live')?.status?.progress, '0/4');
    await sweeps.stop();
    await sweeps.stop();
    api.create('unseen', SPEC);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(api.get('unseen')?.status, undefined, 'stopped: nothing reconciled');
    await sweeps.start();
    const idleAgain = sweeps.idle();
    sweeps.poke();
    await idleAgain;
    assert.equal(api.get('unseen')?.status?.progress, '0/4');
    await sweeps.stop();
  });
});
