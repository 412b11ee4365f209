// The zoo table of docs/science.md is the published contract of the five architectures (default
// dataset, input, classes, total prunable weights, prunable layers in forward order with their torch
// shapes). This test reads that table and compares it with the code, so neither can change alone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ARCHITECTURE_NAMES, architecture } from './zoo.ts';

interface DocumentedArchitecture {
  name: string;
  dataset: string;
  input: number[];
  classes: number;
  totalParams: number;
  layers: [name: string, shape: number[]][];
}

const TABLE_START = '<!-- zoo table:';
const TABLE_END = '<!-- end of zoo table -->';

const dims = (text: string) => text.trim().split('×').map(Number);

/** `| \`name\` | dataset | h×w×c | classes | 1,234 | \`layer\` o×i×kh×kw, … |` → its figures. */
function parseRow(row: string): DocumentedArchitecture {
  const cells = row
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());
  assert.equal(cells.length, 6, `a zoo table row has 6 cells: ${row}`);
  const cell = (k: number) => cells[k]!;
  return {
    name: cell(0).replaceAll('`', ''),
    dataset: cell(1),
    input: dims(cell(2)),
    classes: Number(cell(3)),
    totalParams: Number(cell(4).replaceAll(',', '')),
    layers: [...cell(5).matchAll(/`([^`]+)` ([0-9×]+)/g)].map((m) => [m[1]!, dims(m[2]!)]),
  };
}

function documentedZoo(): DocumentedArchitecture[] {
  const text = readFileSync(new URL('../../docs/science.md', import.meta.url), 'utf8');
  const start = text.indexOf(TABLE_START);
  const end = text.indexOf(TABLE_END);
  assert.ok(start >= 0 && end > start, 'docs/science.md has the marked zoo table');
  return text
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map(parseRow);
}

test('docs/science.md lists exactly the architectures of the zoo, in the same order', () => {
  assert.deepEqual(
    documentedZoo().map((a) => a.name),
    ARCHITECTURE_NAMES,
  );
});

for (const documented of documentedZoo()) {
  test(`${documented.name}: dataset, input, total and layer order match docs/science.md`, () => {
    const arch = architecture(documented.name);
    assert.equal(arch.dataset, documented.dataset);
    assert.deepEqual([...arch.input], documented.input);
    assert.equal(arch.classes, documented.classes);
    assert.equal(arch.totalParams, documented.totalParams);
    assert.deepEqual(
      arch.layers.map((l) => [l.name, [...l.shape]]),
      documented.layers,
    );
    // The total is the sum of the documented shapes: a typo in one shape cannot hide behind the total.
    const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
    const documentedSum = documented.layers.reduce((sum, [, shape]) => sum + size(shape), 0);
    assert.equal(documentedSum, documented.totalParams);
  });
}
