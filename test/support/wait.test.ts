import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from './wait.ts';

describe('waitFor', () => {
  it('polls until the check is truthy and returns its value', async () => {
    let calls = 0;
    const value = await waitFor('the third call', () => (++calls === 3 ? { calls } : undefined), {
      intervalMs: 1,
    });
    assert.deepEqual(value, { calls: 3 });
  });

  it('fails naming what it waited for once the deadline passes', async () => {
    await assert.rejects(
      waitFor('never', async () => false, 50),
      /^Error: timed out waiting for never$/,
    );
  });

  it('fails at the deadline also while a check hangs', async () => {
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<boolean>(() => {});
    };
    await assert.rejects(
      waitFor('a hung check', hang, { timeoutMs: 50 }),
      /timed out waiting for a hung check/,
    );
    assert.equal(calls, 1);
  });

  it('passes on what the check throws', async () => {
    await assert.rejects(
      waitFor('x', () => {
        throw new Error('broken check');
      }),
      /broken check/,
    );
  });
});
