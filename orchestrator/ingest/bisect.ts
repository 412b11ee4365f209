// Finding the message a database refuses. A batch the write refuses for its data is split in halves,
// each written alone (and split again while refused), down to the single message at fault, which is
// turned into a dead letter and written with the part's other dead letters: everything else commits.
// A poison message costs about 2·log2(batch) extra writes, half of them side by side, instead of
// stopping the stream.
import type { WriteOutcome } from './retry.ts';

/** Items to write, and dead letters to write in the same transaction. */
export interface Part<T, D> {
  items: T[];
  dead: D[];
}

/**
 * Writes `part` with `write`, splitting it on refusal. Returns each committed write's value in
 * order, or null once `write` reports that it stopped (the rest is left unwritten). `write` must
 * not refuse a part without items.
 */
export async function bisectWrite<T, D, R>(
  part: Part<T, D>,
  write: (part: Part<T, D>) => Promise<WriteOutcome<R>>,
  reject: (item: T, reason: string) => D,
): Promise<R[] | null> {
  const outcome = await write(part);
  if (outcome.kind === 'written') return [outcome.value];
  if (outcome.kind === 'stopped') return null;
  const { items, dead } = part;
  if (items.length === 0) throw new Error(`a write refused only dead letters: ${outcome.reason}`);
  if (items.length === 1)
    return bisectWrite({ items: [], dead: [...dead, reject(items[0]!, outcome.reason)] }, write, reject);
  // The halves are independent (every effect is monotonic): written side by side, on two connections.
  const half = Math.ceil(items.length / 2);
  const [first, second] = await Promise.all([
    bisectWrite({ items: items.slice(0, half), dead }, write, reject),
    bisectWrite({ items: items.slice(half), dead: [] }, write, reject),
  ]);
  if (!first || !second) return null;
  return [...first, ...second];
}
