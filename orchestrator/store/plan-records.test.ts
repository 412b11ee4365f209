import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { expandSweep } from '../sweep/expand.ts';
import { parseSweepYaml } from '../sweep/spec.ts';
import { submitPlan } from './plan-records.ts';
import { createTestDatabase, type TestDatabase } from './test-support.ts';

const SWEEP = `
name: records-test
architectures: [lenet300100]
pruners: [random/erk, lamp]
types: [direct, effective]
compressions: [10, 100]
seeds: [0, 1]
maxParallel: 3
retries: 4
`;
const plan = (yaml: string) => expandSweep(parseSweepYaml(yaml));

describe('submitting a sweep plan', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('sweep_records');
  });
  after(() => db.dispose());

  test('is idempotent, adds only new trials and links dense dependencies', async () => {
    const first = await submitPlan(db.store, plan(SWEEP), 'local');
    assert.deepEqual([first.created, first.addedTrials, first.totalTrials], [true, 18, 18]);
    assert.deepEqual([first.sweep.maxParallel, first.sweep.retries, first.sweep.backend], [3, 4, 'local']);
    const again = await submitPlan(db.store, plan(SWEEP), 'local');
    assert.deepEqual([again.created, again.addedTrials, again.totalTrials], [false, 0, 18]);
    const edited = await submitPlan(db.store, plan(SWEEP.replace('[10, 100]', '[10, 100, 1000]')), 'local');
    assert.deepEqual([edited.addedTrials, edited.totalTrials], [8, 26]);

    const trials = await db.store.listTrials(first.sweep.id);
    const byId = new Map(trials.map((t) => [t.id, t]));
    for (const trial of trials) {
      if (trial.pruner === 'lamp') {
        const dense = byId.get(trial.dependsOnId!);
        assert.deepEqual([dense?.pruner, dense?.seed], ['dense', trial.seed]);
      } else assert.equal(trial.dependsOnId, null);
    }
    const one = trials.find(
      (t) => t.pruner === 'random/erk' && t.pruningType === 'effective' && t.targetCompression === 100,
    );
    assert.equal(one?.targetSparsity, 0.99);
    assert.deepEqual(one?.params, {
      arch: 'lenet300100',
      dataset: 'mnist',
      pruner: 'random/erk',
      type: 'effective',
      compression: 100,
      seed: one?.seed,
    });
  });
});
