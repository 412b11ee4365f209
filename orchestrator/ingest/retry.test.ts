import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeError, isDataError, type RetryOptions, retryWrite } from './retry.ts';

/** A write that throws the given errors in turn, then returns 'ok'. */
function failing(...errors: unknown[]): { write: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    write: async () => {
      const error = errors[calls++];
      if (error !== undefined) throw error;
      return 'ok';
    },
    calls: () => calls,
  };
}

const dataError = Object.assign(new Error('value too long'), { meta: { code: '22001' } });
const connectionError = Object.assign(new Error('connection refused'), { meta: { code: '08006' } });

function options(overrides: Partial<RetryOptions> = {}): RetryOptions & { waits: number[] } {
  const waits: number[] = [];
  return {
    backoff: { initialMs: 100, maxMs: 400 },
    refusable: true,
    stopped: () => false,
    databaseAnswers: async () => true,
    wait: async (ms) => waits.push(ms),
    waits,
    ...overrides,
  };
}

describe('retryWrite', () => {
  it('retries whatever fails with doubling waits until the write commits', async () => {
    const { write, calls } = failing(connectionError, connectionError, connectionError, connectionError);
    const opts = options();
    const seen: number[] = [];
    assert.deepEqual(await retryWrite(write, { ...opts, onFailure: (_, n) => seen.push(n) }), {
      kind: 'written',
      value: 'ok',
    });
    assert.equal(calls(), 5);
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(opts.waits, [100, 200, 400, 400]);
  });

  it('refuses a batch at its first data error while the database answers, without waiting', async () => {
    const { write, calls } = failing(connectionError, dataError, dataError, dataError);
    const opts = options();
    assert.deepEqual(await retryWrite(write, opts), { kind: 'refused', reason: 'value too long' });
    assert.equal(calls(), 2);
    assert.deepEqual(opts.waits, [100], 'only the connection error waited');
  });

  it('still waits out a data error as often as refuseAfter says', async () => {
    const { write, calls } = failing(dataError, dataError, dataError);
    const opts = options({ refuseAfter: 3 });
    assert.equal((await retryWrite(write, opts)).kind, 'refused');
    assert.equal(calls(), 3);
    assert.deepEqual(opts.waits, [100, 200]);
  });

  it('keeps retrying a data error while the database does not answer, or when nothing can be refused', async () => {
    for (const overrides of [{ databaseAnswers: async () => false }, { refusable: false }]) {
      const { write, calls } = failing(dataError, dataError, dataError, dataError, dataError);
      assert.equal((await retryWrite(write, options(overrides))).kind, 'written');
      assert.equal(calls(), 6);
    }
  });

  it('gives up between tries once stopped, without waiting', async () => {
    const { write, calls } = failing(connectionError, connectionError);
    let stopping = false;
    const opts = options({ stopped: () => stopping });
    const outcome = await retryWrite(write, {
      ...opts,
      onFailure: (_, failures) => {
        if (failures === 2) stopping = true;
      },
    });
    assert.deepEqual(outcome, { kind: 'stopped' });
    assert.equal(calls(), 2);
    assert.deepEqual(opts.waits, [100]);
  });
});

describe('isDataError', () => {
  it('reads SQLSTATE classes 22, 23 and 54 from the error code or the message', () => {
    assert.equal(isDataError(dataError), true);
    assert.equal(isDataError({ meta: { code: '54000' } }), true);
    assert.equal(isDataError(new Error('Code: `08006`')), false);
    assert.equal(isDataError({ meta: { code: '23505' } }), true);
    assert.equal(isDataError(new Error('Raw query failed. Code: `22P05`. Message: unsupported')), true);
    assert.equal(isDataError(connectionError), false);
    assert.equal(isDataError(new Error('Code: `40001`')), false);
    assert.equal(isDataError(new Error('no code at all')), false);
    assert.equal(isDataError(undefined), false);
  });
});

describe('describeError', () => {
  it('is the message, at most 500 characters', () => {
    assert.equal(describeError(new Error('boom')), 'boom');
    assert.equal(describeError('plain'), 'plain');
    assert.equal(describeError(new Error('x'.repeat(600))).length, 500);
  });
});
