import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bisectWrite, type Part } from './bisect.ts';
import type { WriteOutcome } from './retry.ts';

/** A store that refuses any part holding a poison item; it records every part it was offered. */
function store(poison: Set<number>, stopAfter = Number.POSITIVE_INFINITY) {
  const tries: Part<number, string>[] = [];
  const committed: Part<number, string>[] = [];
  const write = async (part: Part<number, string>): Promise<WriteOutcome<string[]>> => {
    tries.push(part);
    if (tries.length > stopAfter) return { kind: 'stopped' };
    const bad = part.items.find((item) => poison.has(item));
    if (bad !== undefined) return { kind: 'refused', reason: `bad ${bad}` };
    committed.push(part);
    return { kind: 'written', value: part.dead };
  };
  return { write, tries, committed };
}

const reject = (item: number, reason: string) => `${item}: ${reason}`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('bisectWrite', () => {
  it('writes a clean batch once', async () => {
    const s = store(new Set());
    assert.deepEqual(await bisectWrite({ items: range(8), dead: ['d'] }, s.write, reject), [['d']]);
    assert.equal(s.tries.length, 1);
  });

  it('isolates the one poison item, commits all the others and writes the batch dead letters once', async () => {
    const s = store(new Set([5]));
    const written = await bisectWrite({ items: range(8), dead: ['undecodable'] }, s.write, reject);
    assert.deepEqual(written?.flat().sort(), ['5: bad 5', 'undecodable']);
    assert.deepEqual(s.committed.flatMap((p) => p.items).sort(), [0, 1, 2, 3, 4, 6, 7]);
    // [0-7] refused; [0-3] commits, so [4-7] is split without being written whole: [4,5] refused
    // beside [6,7]; [4] commits, [5] refused on its own; then the dead letters alone.
    const tried = (parts: Part<number, string>[]) => parts.map((p) => p.items.join(',')).sort();
    assert.deepEqual(
      tried(s.tries),
      tried([range(8), [0, 1, 2, 3], [4, 5], [6, 7], [4], [5], []].map((items) => ({ items, dead: [] }))),
    );
  });

  it('never writes whole a half whose other half committed, and finds the last item', async () => {
    const s = store(new Set([15]));
    const written = await bisectWrite({ items: range(16), dead: [] }, s.write, reject);
    assert.deepEqual(written?.flat(), ['15: bad 15']);
    assert.deepEqual(
      s.tries.map((p) => p.items.length),
      [16, 8, 4, 2, 1, 1, 0],
      'one write per level on the way down, the culprit alone, then its dead letter',
    );
  });

  it('rejects only what is refused on its own: a refusal that does not recur costs writes, not a message', async () => {
    let refusals = 1;
    const tries: number[][] = [];
    const flaky = async (part: Part<number, string>): Promise<WriteOutcome<string[]>> => {
      tries.push(part.items);
      if (part.items.length > 0 && refusals-- > 0) return { kind: 'refused', reason: 'once' };
      return { kind: 'written', value: part.dead };
    };
    assert.deepEqual((await bisectWrite({ items: range(4), dead: [] }, flaky, reject))?.flat(), []);
    // [0-3] refused once; [0,1] commits, so [2,3] is searched: [2] commits, [3] alone commits too.
    assert.deepEqual(tries, [range(4), [0, 1], [2], [3]]);
  });

  it('finds several poison items, the first and the last included', async () => {
    const s = store(new Set([0, 6]));
    const written = await bisectWrite({ items: range(7), dead: [] }, s.write, reject);
    assert.deepEqual(written?.flat().sort(), ['0: bad 0', '6: bad 6']);
    assert.deepEqual(s.committed.flatMap((p) => p.items).sort(), [1, 2, 3, 4, 5]);
  });

  it('stops where the write says it stopped and reports nothing written', async () => {
    const s = store(new Set([3]), 2);
    assert.equal(await bisectWrite({ items: range(4), dead: [] }, s.write, reject), null);
    assert.equal(s.tries.length, 3);
  });

  it('refuses to split a part without items', async () => {
    const refuseAll = async (): Promise<WriteOutcome<string[]>> => ({ kind: 'refused', reason: 'no' });
    await assert.rejects(
      bisectWrite({ items: [], dead: ['d'] }, refuseAll, reject),
      /refused only dead letters/,
    );
  });
});
