import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { InputError } from '../common/errors.ts';
import { benchFlags, readFlags, usageText, wholeNumber } from './flags.ts';

test('wholeNumber accepts whole numbers at or above the minimum and names the flag otherwise', () => {
  assert.equal(wholeNumber('points', '20000'), 20000);
  assert.equal(wholeNumber('seeds', '0', 0), 0);
  assert.throws(
    () => wholeNumber('points', 'abc'),
    new InputError("--points must be a whole number ≥ 1, got 'abc'"),
  );
  assert.throws(() => wholeNumber('points', '1.5'), InputError);
  assert.throws(() => wholeNumber('points', '0'), InputError);
});

test('readFlags returns what it read and lets other errors through', () => {
  assert.equal(
    readFlags('x', () => 7),
    7,
  );
  assert.throws(
    () =>
      readFlags('x', () => {
        throw new TypeError('a bug');
      }),
    TypeError,
  );
});

test('a bad flag is one stderr line and exit code 2', () => {
  const script = `
    import { parseArgs } from 'node:util';
    import { readFlags } from './bench/flags.ts';
    readFlags('demo', () => parseArgs({ args: ['--bogus'], options: {} }));`;
  const child = runModule(script);
  assert.equal(child.status, 2);
  assert.equal(child.stderr, "bench:demo: Unknown option '--bogus'\n");
});

/** Runs `script` (an ES module that may import ./bench/…) in a new node process with tsx. */
function runModule(script: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** A demo bench that prints what it was told, or that it ran, after benchFlags. */
const demo = (args: string[]) => `
  import { benchFlags } from './bench/flags.ts';
  const values = benchFlags({
    name: 'demo',
    about: 'Measures nothing. Baseline: none. Target: none.',
    flags: {
      points: { type: 'string', default: '200', value: 'N', about: 'points to publish' },
      backend: { type: 'string', value: 'NAME', about: 'the backend' },
      quick: { type: 'boolean', default: false, about: 'a smoke run' },
    },
  }, ${JSON.stringify(args)});
  console.log('ran', JSON.stringify(values));`;

test('benchFlags returns the flags with their defaults, and no help', () => {
  const values = benchFlags(
    {
      name: 'demo',
      about: '',
      flags: {
        points: { type: 'string', default: '200', about: '' },
        backend: { type: 'string', about: '' },
        quick: { type: 'boolean', default: false, about: '' },
        json: { type: 'boolean', default: false, about: '' },
      },
    },
    ['--backend', 'wasm', '--quick'],
  );
  assert.deepEqual({ ...values }, { points: '200', backend: 'wasm', quick: true, json: false });
});

test('--help and -h print the usage, each flag with its default, and exit 0 before the bench runs', () => {
  for (const flag of ['--help', '-h']) {
    const child = runModule(demo(['--quick', flag]));
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stderr, '');
    assert.equal(
      child.stdout,
      [
        'usage: npm run bench:demo [-- FLAGS]',
        '',
        'Measures nothing. Baseline: none. Target: none.',
        '',
        'flags:',
        '  --points N      points to publish (default: 200)',
        '  --backend NAME  the backend',
        '  --quick         a smoke run (default: false)',
        '  -h, --help      print this and exit',
        '',
      ].join('\n'),
    );
  }
});

test('benchFlags: an unknown flag is still one stderr line and exit code 2', () => {
  const child = runModule(demo(['--bogus']));
  assert.equal(child.status, 2);
  assert.equal(child.stdout, '');
  assert.equal(child.stderr, "bench:demo: Unknown option '--bogus'\n");
});

test('usageText names every flag and the help flag', () => {
  const text = usageText({
    name: 'x',
    about: '  Measures x.\n',
    flags: { n: { type: 'string', default: '1', about: 'count' }, json: { type: 'boolean', about: 'JSON' } },
  });
  assert.match(text, /^usage: npm run bench:x \[-- FLAGS\]\n\nMeasures x\.\n/);
  assert.match(text, /^ {2}--n VALUE {3}count \(default: 1\)$/m);
  assert.match(text, /^ {2}--json {6}JSON$/m);
  assert.match(text, /^ {2}-h, --help {2}print this and exit$/m);
});

/** Each `npm run bench:*` script, its file, and the flags it takes besides --help. */
const BENCHES: [string, string[]][] = [
  ['cli', ['--trials', '--repeats', '--json']],
  ['controller', ['--quick', '--faults', '--json']],
  [
    'ingest',
    [
      '--points',
      '--points-per-event',
      '--trials',
      '--store-mb',
      '--outage-events',
      '--outage-seconds',
      '--poison-events',
      '--json',
    ],
  ],
  ['sparsity', ['--quick', '--json']],
  ['train', ['--backend', '--conv-steps', '--skip-conv', '--compression-rounds', '--json']],
  ['prune', ['--quick', '--json']],
  ['event-validation', ['--events', '--rounds', '--json']],
];

test('every bench script answers --help with its usage and exit 0', {
  timeout: BENCHES.length * 70_000,
}, () => {
  for (const [file, flags] of BENCHES) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}.ts`, '--help'], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(child.status, 0, `bench/${file}.ts --help: ${child.error ?? ''}${child.stderr}`);
    assert.match(child.stdout, /^usage: npm run bench:\S+ \[-- FLAGS\]\n/, file);
    for (const flag of [...flags, '--help']) {
      assert.match(child.stdout, new RegExp(`^ {2}(-h, )?${flag}\\b`, 'm'), `bench/${file}.ts: ${flag}`);
    }
    // Nothing but the usage: the bench did not start (no headline, no verdict).
    assert.doesNotMatch(child.stdout + child.stderr, /TARGET|\[backend /, file);
  }
});
