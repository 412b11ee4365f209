import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'esweep-train-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function trialFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('esweep train: a bad trial is one line on stderr and exit code 2', async () => {
  const cases = [
    [
      trialFile('arch.json', '{"arch":"alexnet","pruner":"dense","seed":0}'),
      /unknown architecture 'alexnet'/,
    ],
    [
      trialFile(
        'both.json',
        '{"arch":"lenet5","pruner":"random/erk","sparsity":0.9,"compression":10,"seed":0}',
      ),
      /not both/,
    ],
    [
      trialFile('magnitude.json', '{"arch":"lenet5","pruner":"lamp","compression":10,"seed":0}'),
      /--dense-from/,
    ],
    [trialFile('broken.json', '{"arch": '), /not valid JSON/],
  ] as const;
  const results = await Promise.all(cases.map(([path]) => runCli(['train', '--trial', path])));
  results.forEach((result, k) => {
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^esweep: /);
    assert.match(result.stderr, cases[k][1]);
  });
});
