/** Printing for the CLI: one JSON document for `--json`, aligned tables for people. */
import { toJson } from '../../common/format.ts';

export { type Column, renderTable } from '../../common/table.ts';

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

export const formatCount = (count: number) => count.toLocaleString('en-US');
