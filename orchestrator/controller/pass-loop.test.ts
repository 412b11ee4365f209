import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PassLoop, type PassOutcome } from './pass-loop.ts';

/** A pass that records each run and answers the outcomes given, then 'done'. */
function recorder(outcomes: PassOutcome[] = []) {
  const runs: number[] = [];
  let inPass = 0;
  let overlaps = 0;
  const pass = async (): Promise<PassOutcome> => {
    inPass++;
    if (inPass > 1) overlaps++;
    runs.push(runs.length + 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    inPass--;
    return outcomes.shift() ?? 'done';
  };
  return { pass, runs, overlaps: () => overlaps };
}

describe('PassLoop', () => {
  test('a burst of pokes is one pass; a poke during a pass causes exactly one more; passes never overlap', async () => {
    const r = recorder();
    const loop = new PassLoop(r.pass, { debounceMs: 5 });
    loop.start();
    loop.poke();
    loop.poke();
    await loop.idle();
    assert.equal(r.runs.length, 1);
    loop.poke();
    await new Promise((resolve) => setTimeout(resolve, 7));
    loop.poke();
    loop.poke();
    await loop.idle();
    assert.equal(r.runs.length, 3);
    assert.equal(r.overlaps(), 0);
    await loop.stop();
  });

  test("'retry' runs the pass again after the pause, 'stop' ends the loop until the next poke, again() asks for one more", async () => {
    const r = recorder(['retry', 'stop']);
    const loop = new PassLoop(r.pass, { debounceMs: 1, retryPauseMs: 1 });
    loop.start();
    await loop.idle();
    assert.equal(r.runs.length, 2, "the retry, then the 'stop'");
    loop.poke();
    await loop.idle();
    assert.equal(r.runs.length, 3);
    const more = recorder();
    const chained = new PassLoop(
      async () => {
        const outcome = await more.pass();
        if (more.runs.length < 3) chained.again();
        return outcome;
      },
      { debounceMs: 1 },
    );
    chained.start();
    await chained.idle();
    assert.equal(more.runs.length, 3);
    await Promise.all([loop.stop(), chained.stop()]);
  });

  test('no pass after stop(); stop() waits for the pass in progress and releases idle waiters', async () => {
    const r = recorder();
    const loop = new PassLoop(r.pass, { debounceMs: 1 });
    loop.poke();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(r.runs.length, 0, 'not started: pokes are ignored');
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 3));
    const idle = loop.idle();
    await loop.stop();
    await idle;
    const after = r.runs.length;
    loop.poke();
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(r.runs.length, after);
  });
});
