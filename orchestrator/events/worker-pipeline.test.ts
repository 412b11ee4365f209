import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { orchestratedEnv } from './worker-pipeline.ts';

const env = { ESWEEP_SWEEP_ID: 's1', ESWEEP_TRIAL_ID: 't1', ESWEEP_ATTEMPT: '2' };

test('the orchestrator’s environment is read and typed; without a sweep id there is none', () => {
  assert.equal(orchestratedEnv({}), null);
  const read = orchestratedEnv({ ...env, NATS_URL: '', ESWEEP_EVENTS: 'nats' });
  assert.equal(read?.ESWEEP_ATTEMPT, 2);
  assert.equal(read?.NATS_URL, undefined);
  assert.equal(read?.ESWEEP_EVENTS, 'nats');
});

test('a bad orchestrator environment is one line naming the variable and the problem', () => {
  const rejects = (values: NodeJS.ProcessEnv, message: string) =>
    assert.throws(
      () => orchestratedEnv(values),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.message, message);
        return true;
      },
    );
  rejects({ ...env, ESWEEP_TRIAL_ID: undefined }, 'environment: ESWEEP_TRIAL_ID: is required');
  rejects({ ...env, ESWEEP_ATTEMPT: '0' }, 'environment: ESWEEP_ATTEMPT: must be ≥ 1, got 0');
  rejects(
    { ...env, ESWEEP_EVENTS: 'carrier-pigeon' },
    'environment: ESWEEP_EVENTS: must be one of ipc, nats; got "carrier-pigeon"',
  );
});
