// The bundle the images run (dist/esweep.mjs) behaves as the sources do: commands are there, the
// repository's files are found from dist/ (prisma/migrations), and tfjs' wasm backend trains.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PROJECT_ROOT } from '../project-root.ts';
import { bundleCli } from './bundle.ts';
import { runCli } from './run-cli.ts';

// Inside the package, so that the bundle's imports of dependencies resolve in node_modules.
const outdir = join(PROJECT_ROOT, 'dist', `test-${randomBytes(4).toString('hex')}`);
const dir = mkdtempSync(join(tmpdir(), 'esweep-bundle-'));
let bin = '';
before(async () => {
  bin = await bundleCli(outdir);
});
after(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

const bundled = (args: string[]) => runCli(args, process.env, bin);

test('the bundle lists the same commands as the sources and rejects bad input with exit code 2', async () => {
  const [fromBundle, fromSources] = await Promise.all([bundled(['--help']), runCli(['--help'])]);
  assert.equal(fromBundle.code, 0, fromBundle.stderr);
  assert.equal(fromBundle.stdout, fromSources.stdout);
  assert.match(fromBundle.stdout, /controller\s+reconcile sweeps/);
  const bad = await bundled(['arch', 'alexnet']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^esweep: .*alexnet/);
});

test('the bundle migrates an embedded database from prisma/migrations', async () => {
  const database = `pglite:${join(dir, 'db')}`;
  const migrated = await bundled(['db', 'migrate', '--database', database, '--json']);
  assert.equal(migrated.code, 0, migrated.stderr);
  const { applied } = JSON.parse(migrated.stdout) as { applied: string[] };
  assert.ok(applied.length > 0, migrated.stdout);
  const status = await bundled(['db', 'status', '--database', database, '--json']);
  assert.deepEqual(JSON.parse(status.stdout).pending, []);
});

test('the bundle trains a trial on the wasm backend', async () => {
  const trial = join(dir, 'trial.json');
  const out = join(dir, 'result.json');
  writeFileSync(
    trial,
    JSON.stringify({
      arch: 'lenet300100',
      pruner: 'random/igq',
      type: 'effective',
      compression: 10,
      seed: 0,
      budget: { iterations: 3 },
    }),
  );
  const trained = await bundled(['train', '--trial', trial, '--out', out, '--backend', 'wasm']);
  assert.equal(trained.code, 0, trained.stderr);
  const result = JSON.parse(readFileSync(out, 'utf8')) as { steps: number; effectiveCompression: number };
  assert.equal(result.steps, 3);
  assert.ok(Math.abs(result.effectiveCompression - 10) < 0.1, String(result.effectiveCompression));
});

test('the bundle starts its workers from the bundle, not from bin/ and tsx', async () => {
  // Every node process started under this preload records the script it runs.
  const log = join(dir, 'scripts.log');
  const preload = join(dir, 'record-script.cjs');
  writeFileSync(
    preload,
    `require('node:fs').appendFileSync(${JSON.stringify(log)}, process.argv[1] + '\\n');\n`,
  );
  const sweep = join(dir, 'sweep.yaml');
  writeFileSync(
    sweep,
    [
      'name: bundle-workers',
      'architectures: [lenet300100]',
      'pruners: [random/igq]',
      'types: [direct]',
      'compressions: [10]',
      'seeds: [0]',
      'budget: { iterations: 2 }',
      'resources: { gpu: 0 }',
    ].join('\n'),
  );
  const env = { ...process.env, NODE_OPTIONS: `--require ${preload}` };
  const ran = await runCli(['run', sweep, '--home', join(dir, 'home'), '--json'], env, bin);
  assert.equal(ran.code, 0, ran.stderr);
  const scripts = readFileSync(log, 'utf8').trim().split('\n');
  // The CLI itself and at least one worker; every one of them is the bundle's entry.
  assert.ok(scripts.length >= 2, scripts.join(', '));
  assert.deepEqual([...new Set(scripts)], [bin]);
});
