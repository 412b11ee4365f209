// The CLI's exit contract through the real binary: bad input is exit 2 with exactly one line on
// stderr; an unreachable database is its own code (69), also one line; no stack traces.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BAD_INPUT_EXIT_CODE, SERVICE_UNAVAILABLE_EXIT_CODE } from '../../common/errors.ts';
import { type NdArray, writeNpz } from '../../worker/io/npz.ts';
import { runCli } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'esweep-contract-'));
const UNREACHABLE = 'postgresql://postgres@127.0.0.1:1/esweep';
const SWEEP = 'name: s\narchitectures: [lenet300100]\npruners: [random/uniform]\n';

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function expectOneLine(args: string[], code: number, pattern: RegExp): Promise<void> {
  const result = await runCli(args);
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, pattern);
}

const bomb = [
  'name: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefgh'.split('').map((n, k) => `${n}: &${n} [${Array(9).fill(`*${'abcdefgh'[k]}`).join(',')}]`),
].join('\n');

describe('the CLI exit contract', { concurrency: 3 }, () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a read-only command never creates a database', async () => {
    const missing = join(dir, 'no-db');
    await expectOneLine(
      ['sweep', 'results', 'x', '--database', `pglite:${missing}`],
      BAD_INPUT_EXIT_CODE,
      /^esweep: no database at pglite:.*no-db /,
    );
    assert.equal(existsSync(missing), false);
  });

  test('an unreachable database server is exit 69 with one line', async () => {
    for (const args of [
      ['sweep', 'results', 'x', '--database', UNREACHABLE],
      ['db', 'migrate', '--database', UNREACHABLE],
      [
        'run',
        file('unreachable.yaml', `${SWEEP}compressions: [10]\n`),
        '--home',
        join(dir, 'unreachable-home'),
        '--database',
        UNREACHABLE,
      ],
    ]) {
      await expectOneLine(
        args,
        SERVICE_UNAVAILABLE_EXIT_CODE,
        /^esweep: cannot reach the database at .*:1\/esweep: /,
      );
    }
  });

  test('a YAML alias bomb and an unknown tag are bad input', async () => {
    await expectOneLine(
      ['sweep', 'submit', file('bomb.yaml', bomb), '--dry-run'],
      BAD_INPUT_EXIT_CODE,
      /^esweep: bomb\.yaml: not valid YAML: aliases/,
    );
    await expectOneLine(
      ['sweep', 'submit', file('tag.yaml', `${SWEEP}extra: !!js/function "function () {}"\n`), '--dry-run'],
      BAD_INPUT_EXIT_CODE,
      /^esweep: tag\.yaml: not valid YAML: .*js\/function/,
    );
  });

  test('absurd compressions and budgets are bad input', async () => {
    await expectOneLine(
      ['sweep', 'submit', file('huge.yaml', `${SWEEP}compressions: [1e300]\n`), '--dry-run'],
      BAD_INPUT_EXIT_CODE,
      /compressions\[0\]: a compression must be ≤ 1,000,000/,
    );
    await expectOneLine(
      ['sweep', 'submit', file('long.yaml', `${SWEEP}budget: {iterations: 1e15}\n`), '--dry-run'],
      BAD_INPUT_EXIT_CODE,
      /budget\.iterations: must be ≤ 10,000,000/,
    );
  });

  test('prune --out naming a directory is refused before any work, leaving nothing there', async () => {
    const out = join(dir, 'masks');
    mkdirSync(out);
    await expectOneLine(
      ['prune', '--arch', 'lenet300100', '--pruner', 'random/uniform', '--sparsity', '0.5', '--out', out],
      BAD_INPUT_EXIT_CODE,
      /^esweep: --out: '.*masks' is a directory/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.includes('.partial')),
      [],
    );
  });

  test('a weight file of 20,000 unexpected arrays is one line of bounded length', async () => {
    const arrays: Record<string, NdArray> = {};
    for (const layer of ['fc1', 'fc2', 'fc3'])
      arrays[layer] = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    for (let k = 0; k < 20_000; k++)
      arrays[`extra${k}`] = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    const init = join(dir, 'many.npz');
    writeFileSync(init, writeNpz(arrays));
    const result = await runCli([
      'prune',
      '--arch',
      'lenet300100',
      '--pruner',
      'random/uniform',
      '--sparsity',
      '0.5',
      '--init',
      init,
      '--out',
      join(dir, 'm.npz'),
    ]);
    assert.equal(result.code, BAD_INPUT_EXIT_CODE, result.stderr.slice(0, 2000));
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.match(result.stderr, /unexpected array\(s\) extra0, .*… \(\d+ more characters\)$/m);
    assert.ok(result.stderr.length < 1100, `${result.stderr.length} characters`);
  });

  test('VGG on 28×28 images says what it needs', async () => {
    await expectOneLine(
      ['arch', 'vgg16', '--dataset', 'mnist'],
      BAD_INPUT_EXIT_CODE,
      /^esweep: VGG needs inputs of at least 32×32, got 28×28/,
    );
  });
});
