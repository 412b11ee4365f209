// Finding the message a database refuses. A batch the write refuses for its data is split in halves
// down to the single message at fault, which is turned into a dead letter and written with the part's
// other dead letters: everything else commits. The first half of a refused part is written first:
// when it commits, what was refused is in the second half, which is split without being written
// whole; when it is refused too, the second half is written alongside its search. A poison message
// costs about 1.5·log2(batch) extra writes instead of stopping the stream.
import type { WriteOutcome } from './retry.ts';

/** Items to write, and dead letters to write in the same transaction. */
export interface Part<T, D> {
  items: T[];
  dead: D[];
}

type Write<T, D, R> = (part: Part<T, D>) => Promise<WriteOutcome<R>>;
type Reject<T, D> = (item: T, reason: string) => D;

/**
 * Writes `part` with `write`, splitting it on refusal. Returns each committed write's value in
 * order, or null once `write` reports that it stopped (the rest is left unwritten). `write` must
 * not refuse a part without items.
 */
export async function bisectWrite<T, D, R>(
  part: Part<T, D>,
  write: Write<T, D, R>,
  reject: Reject<T, D>,
): Promise<R[] | null> {
  const outcome = await write(part);
  if (outcome.kind === 'written') return [outcome.value];
  if (outcome.kind === 'stopped') return null;
  return isolate(part, outcome.reason, write, reject);
}

/**
 * `part` holds something the database refuses (it was refused, or its complement in a refused part
 * committed). Only a message refused on its own is rejected: an inference that proves wrong (a
 * refusal that does not recur) costs writes, never a dead letter.
 */
async function isolate<T, D, R>(
  part: Part<T, D>,
  reason: string,
  write: Write<T, D, R>,
  reject: Reject<T, D>,
): Promise<R[] | null> {
  const { items, dead } = part;
  if (items.length === 0) throw new Error(`a write refused only dead letters: ${reason}`);
  if (items.length === 1)
    return bisectWrite({ items: [], dead: [...dead, reject(items[0]!, reason)] }, write, reject);
  const half = Math.ceil(items.length / 2);
  const first: Part<T, D> = { items: items.slice(0, half), dead };
  const second: Part<T, D> = { items: items.slice(half), dead: [] };
  const outcome = await write(first);
  if (outcome.kind === 'stopped') return null;
  if (outcome.kind === 'written') {
    const rest =
      second.items.length === 1
        ? await bisectWrite(second, write, reject)
        : await isolate(second, reason, write, reject);
    return rest && [outcome.value, ...rest];
  }
  // Both halves may hold refused messages; they are independent (every effect is monotonic), so
  // they are searched side by side, on two connections.
  const [a, b] = await Promise.all([
    isolate(first, outcome.reason, write, reject),
    bisectWrite(second, write, reject),
  ]);
  if (!a || !b) return null;
  return [...a, ...b];
}
