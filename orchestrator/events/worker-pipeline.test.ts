import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { MemoryTransport } from './memory.ts';
import { decodeEvent, type TrialEvent } from './protocol.ts';
import { EventPublisher } from './publisher.ts';
import { orchestratedEnv, trialReporterFor } from './worker-pipeline.ts';

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

test('each worker process reports as a new incarnation of its attempt, its events numbered from 0', async () => {
  const transport = new MemoryTransport();
  const publisher = new EventPublisher(transport);
  const read = orchestratedEnv(env)!;
  // The evicted pod and its replacement: two processes of attempt 2.
  for (const reporter of [trialReporterFor(publisher, read), trialReporterFor(publisher, read)]) {
    await reporter.started();
    await reporter.heartbeat();
  }
  await publisher.flush();
  const got: TrialEvent[] = [];
  const subscription = await transport.subscribe();
  for await (const m of subscription) {
    const decoded = decodeEvent(m.subject, m.data);
    assert.ok(decoded.ok, 'decodes');
    got.push(decoded.event);
    m.ack();
    if (got.length === 4) break;
  }
  await subscription.stop();
  const [a, b] = [got[0]!.incarnation, got[2]!.incarnation];
  assert.match(a ?? '', /^[0-9a-f-]{36}$/);
  assert.match(b ?? '', /^[0-9a-f-]{36}$/);
  assert.notEqual(a, b);
  assert.deepEqual(
    got.map((e) => [e.incarnation, e.seq]),
    [
      [a, 0],
      [a, 1],
      [b, 0],
      [b, 1],
    ],
  );
});
