import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunStatus } from '../scheduler/backend.ts';
import type { InFlightTrial } from '../store/store.ts';
import { mayTransition } from '../store/trial-state.ts';
import {
  backoffCutoffs,
  type Decision,
  decide,
  decidedStatus,
  decideSweep,
  type TrialState,
} from './decide.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const POLICY = { retries: 1, heartbeatTimeoutMs: 60_000 };

const trial = (overrides: Partial<TrialState> = {}): TrialState => ({
  status: 'running',
  attempts: 1,
  retryable: null,
  error: null,
  updatedAt: new Date(NOW),
  startedAt: new Date(NOW - 1000),
  heartbeatAt: new Date(NOW - 1000),
  ...overrides,
});

const run = (phase: RunStatus['phase'], overrides: Partial<RunStatus> = {}): RunStatus => ({
  name: 'job-1',
  sweepId: 's',
  trialId: 't',
  attempt: 1,
  phase,
  badInput: false,
  ...overrides,
});

describe('decide', () => {
  // [case, trial, run, expected decision]
  const table: [string, TrialState, RunStatus | undefined, Decision][] = [
    ['queued, run not created yet', trial({ status: 'queued' }), undefined, { kind: 'create' }],
    ['queued, run pending', trial({ status: 'queued' }), run('pending'), { kind: 'wait' }],
    ['running, run running, heartbeat fresh', trial(), run('running'), { kind: 'wait' }],
    ['running, run succeeded', trial(), run('succeeded'), { kind: 'complete' }],
    ['queued, run succeeded', trial({ status: 'queued' }), run('succeeded'), { kind: 'complete' }],
    [
      'running, run failed, retries left',
      trial(),
      run('failed', { reason: 'exit code 1' }),
      { kind: 'retry', error: 'exit code 1', cancel: undefined },
    ],
    [
      'running, run failed, no retries left',
      trial({ attempts: 2 }),
      run('failed', { reason: 'exit code 1' }),
      { kind: 'fail', error: 'exit code 1 (after 2 attempts)', cancel: undefined },
    ],
    [
      'running, run failed on bad input',
      trial(),
      run('failed', { reason: 'exit code 2', badInput: true }),
      { kind: 'fail', error: 'exit code 2', cancel: undefined },
    ],
    [
      'running, run gone, worker heard from moments ago: its last events may be on the way',
      trial(),
      undefined,
      { kind: 'wait' },
    ],
    [
      'running, run gone, worker silent past the grace',
      trial({ updatedAt: new Date(NOW - 61_000), heartbeatAt: new Date(NOW - 61_000) }),
      undefined,
      { kind: 'retry', error: 'its run disappeared', cancel: undefined },
    ],
    [
      'Job collected by its TTL after it succeeded, seen finished before it vanished',
      trial(),
      run('succeeded', { goneAt: NOW - 120_000 }),
      { kind: 'complete' },
    ],
    [
      'Job vanished before it was seen to finish, within the grace',
      trial(),
      run('running', { goneAt: NOW - 1000 }),
      { kind: 'wait' },
    ],
    [
      'Job vanished before it was seen to finish, past the grace: lost, a retry',
      trial(),
      run('running', { goneAt: NOW - 61_000 }),
      {
        kind: 'retry',
        error: 'its Job disappeared before it finished (deleted, or collected by its TTL)',
        cancel: undefined,
      },
    ],
    [
      'queued, its Job vanished unseen past the grace: a retry, not a second Job of the same name',
      trial({ status: 'queued' }),
      run('pending', { goneAt: NOW - 61_000 }),
      {
        kind: 'retry',
        error: 'its Job disappeared before it finished (deleted, or collected by its TTL)',
        cancel: undefined,
      },
    ],
    [
      'pod stuck past the limit: fails at once with the reason, no retry, Job deleted',
      trial({ status: 'queued' }),
      run('failed', { stuck: 'ImagePullBackOff', reason: 'pod p stuck in ImagePullBackOff for 300 s' }),
      { kind: 'fail', error: 'pod p stuck in ImagePullBackOff for 300 s', cancel: 'job-1' },
    ],
    [
      'suspended by Kueue (preempted) and silent for long: waiting, not lost',
      trial({ heartbeatAt: new Date(NOW - 120_000) }),
      run('pending', { suspended: true }),
      { kind: 'wait' },
    ],
    [
      'readmitted after a preemption: silence counts from the readmission',
      trial({ heartbeatAt: new Date(NOW - 120_000) }),
      run('running', { resumedAt: NOW - 5000 }),
      { kind: 'wait' },
    ],
    [
      'readmitted long ago and silent since',
      trial({ heartbeatAt: new Date(NOW - 300_000) }),
      run('running', { resumedAt: NOW - 120_000 }),
      { kind: 'retry', error: 'no heartbeat for 120 s', cancel: 'job-1' },
    ],
    [
      'running, no heartbeat for too long',
      trial({ heartbeatAt: new Date(NOW - 120_000) }),
      run('running'),
      { kind: 'retry', error: 'no heartbeat for 120 s', cancel: 'job-1' },
    ],
    [
      'queued, silent for long: not judged by heartbeat',
      trial({ status: 'queued', heartbeatAt: new Date(NOW - 120_000) }),
      run('pending'),
      { kind: 'wait' },
    ],
    [
      'worker failure, retryable, run still active',
      trial({ status: 'failed', retryable: true, error: 'oom' }),
      run('running'),
      { kind: 'retry', error: 'oom', cancel: 'job-1' },
    ],
    [
      'worker failure, retryable, run finished',
      trial({ status: 'failed', retryable: true, error: 'oom' }),
      run('failed'),
      { kind: 'retry', error: 'oom', cancel: undefined },
    ],
    [
      'worker failure, not retryable',
      trial({ status: 'failed', retryable: false, error: 'bad spec' }),
      undefined,
      { kind: 'fail', error: 'bad spec', cancel: undefined },
    ],
    [
      'worker failure, retries used up',
      trial({ status: 'failed', retryable: true, error: 'oom', attempts: 2 }),
      undefined,
      { kind: 'fail', error: 'oom (after 2 attempts)', cancel: undefined },
    ],
  ];
  for (const [name, state, current, expected] of table) {
    test(name, () => {
      const decision = decide(state, current, POLICY, NOW);
      assert.deepEqual(decision, expected);
      const to = decidedStatus(decision);
      if (to !== null) {
        assert.ok(
          mayTransition(state.status, to, 'controller'),
          `${state.status} → ${to} is a controller transition`,
        );
      }
    });
  }
});

test('decideSweep: marks, cancels, missing runs and the runs still wanted, from one snapshot', () => {
  const row = (id: string, overrides: Partial<InFlightTrial>): InFlightTrial => ({
    id,
    key: `k-${id}`,
    dependsOnId: null,
    ...trial(),
    ...overrides,
  });
  const runs = new Map<string, RunStatus>([
    ['a/1', run('running', { name: 'k-a-1' })],
    ['b/1', run('succeeded', { name: 'k-b-1' })],
    ['c/1', run('running', { name: 'k-c-1' })],
  ]);
  const decisions = decideSweep(
    {
      inFlight: [
        row('a', {}),
        row('b', {}),
        row('c', { status: 'failed', retryable: true, error: 'oom' }),
        row('d', { status: 'queued' }),
        row('e', { status: 'queued' }),
      ],
      blocked: [{ id: 'f', dependsOn: { key: 'dense', status: 'cancelled' } }],
    },
    {
      runs,
      policy: POLICY,
      now: NOW,
      runName: (key, attempt) => `${key}-${attempt}`,
      recentlyCreated: (name) => name === 'k-e-1',
    },
  );
  assert.deepEqual(decisions.wanted, ['k-a-1', 'k-d-1', 'k-e-1']);
  assert.equal(decisions.inFlight, 3);
  assert.deepEqual(decisions.missing, ['d'], 'e was created moments ago');
  assert.deepEqual(decisions.cancels, ['k-c-1']);
  assert.deepEqual(decisions.marks, [
    { trialId: 'b', status: 'completed' },
    { trialId: 'c', status: 'pending', error: 'oom', retryable: true },
    { trialId: 'f', status: 'failed', error: 'its dense trial dense cancelled', retryable: false },
  ]);
  assert.deepEqual(
    decisions.changed.map((c) => [c.key, c.decision.kind]),
    [
      ['k-b', 'complete'],
      ['k-c', 'retry'],
    ],
  );
});

test('backoff cutoffs: one per attempt count while the delay doubles, the last for every count beyond', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const cutoffs = backoffCutoffs(now, 50, 200);
  assert.deepEqual(
    cutoffs.map((c) => [c.attempts, c.orMore, now - c.updatedBy.getTime()]),
    [
      [1, false, 50],
      [2, false, 100],
      [3, true, 200],
    ],
  );
  assert.deepEqual(
    backoffCutoffs(now, 0, 600_000).map((c) => [c.attempts, c.orMore, now - c.updatedBy.getTime()]),
    [[1, true, 0]],
    'no backoff: every retry is ready',
  );
});
