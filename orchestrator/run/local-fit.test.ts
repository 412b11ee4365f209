import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../common/errors.ts';
import { runSweepLocally } from './local.ts';

// This machine trains on wasm (no libtensorflow): ResNet-18 at its reference batch cannot fit there.
test('a local sweep whose trials cannot fit on this backend is refused before anything starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'esweep-local-fit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    'name: too-big\narchitectures: [lenet5, resnet18]\npruners: [random/uniform]\ncompressions: [10]\nseeds: [0]\n' +
      'budget: { iterations: 1 }\nresources: { gpu: 0 }\n',
  );
  const home = join(dir, 'home');
  await assert.rejects(
    runSweepLocally(file, { home, progress: { write: () => true } }),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        'resnet18 on tinyimagenet at batch 256 needs about 37.0 GiB per training step, more than the wasm ' +
          'backend can hold (3.4 GiB of its 4 GiB heap): use batchSize ≤ 22, or a GPU',
  );
  assert.equal(existsSync(home), false, 'no database or artifacts were created');
});
