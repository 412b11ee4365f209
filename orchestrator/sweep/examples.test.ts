import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isConvolutional } from '../../worker/arch/zoo.ts';
import { prunerNames } from '../../worker/pruners/catalog.ts';
import { loadSweep } from './load.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');

test('every example sweep is valid; the paper sweeps cover every pruner × 30 compressions × 3 seeds × both types', async () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('quickstart.yaml'), 'the quickstart exists');
  const paper = files.filter((f) => f.startsWith('paper-'));
  assert.equal(paper.length, 5, `paper sweeps: ${paper.join(', ')}`);
  for (const file of files) {
    const plan = await loadSweep(join(EXAMPLES, file));
    if (!file.startsWith('paper-')) continue;
    const arch = plan.trials[0]!.spec.arch;
    const pruners = new Set(plan.trials.map((t) => t.spec.pruner));
    const expected = prunerNames().filter((name) => isConvolutional(arch) || !name.endsWith('uniform_plus'));
    assert.deepEqual([...pruners].sort(), [...expected].sort(), file);
    // One dense trial per seed; every other pruner: 2 types × 30 compressions × 3 seeds.
    assert.equal(plan.trials.length, (expected.length - 1) * 2 * 30 * 3 + 3, file);
  }
});
