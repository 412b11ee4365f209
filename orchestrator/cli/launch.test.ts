// bin/esweep.js runs the bundle only while it was built from the current sources: it builds it on the
// first run, rebuilds it when a source changed (content or just its time), and runs the sources
// through tsx when it cannot build. Tried on a small package of its own: the real bin/esweep.js and
// orchestrator/cli/bundle.ts, and a main.ts that says whether it runs bundled and what it imported.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PROJECT_ROOT } from '../project-root.ts';
import type { BundleInput } from './bundle.ts';

const pkg = mkdtempSync(join(tmpdir(), 'esweep-launch-'));
const message = join(pkg, 'orchestrator/cli/message.ts');

before(() => {
  writeFileSync(join(pkg, 'package.json'), '{ "name": "launch-test", "type": "module" }\n');
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  for (const file of ['bin/esweep.js', 'orchestrator/project-root.ts', 'orchestrator/cli/bundle.ts']) {
    mkdirSync(join(pkg, file, '..'), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, file), join(pkg, file));
  }
  writeFileSync(
    join(pkg, 'orchestrator/cli/main.ts'),
    [
      "import { message } from './message.ts';",
      'declare const ESWEEP_BUNDLE_ENTRY: string | undefined;',
      "const how: string = typeof ESWEEP_BUNDLE_ENTRY === 'string' ? 'bundle' : 'sources';",
      'console.log([how, message, ...process.argv.slice(2)].join(" "));',
      'process.exitCode = 3;',
    ].join('\n'),
  );
  writeFileSync(message, "export const message = 'v1';\n");
});
after(() => rmSync(pkg, { recursive: true, force: true }));

interface Launch {
  code: number;
  out: string;
  how: string;
}

function launch(env: Record<string, string> = {}): Promise<Launch> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(pkg, 'bin/esweep.js'), 'a', 'b'], {
      env: { ...process.env, ESWEEP_LAUNCH_DEBUG: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, out: out.trim(), how: /esweep: launch: (.*)/.exec(err)?.[1] ?? err }),
    );
  });
}

const inputs = () =>
  (JSON.parse(readFileSync(join(pkg, 'dist/esweep.inputs.json'), 'utf8')) as { inputs: BundleInput[] })
    .inputs;

test('the first run builds the bundle and runs it; the next runs it as it is', async () => {
  const first = await launch();
  assert.deepEqual([first.code, first.out, first.how], [3, 'bundle v1 a b', 'rebuilt bundle (no bundle)']);
  assert.deepEqual(
    inputs()
      .map(([path]) => path)
      .sort(),
    ['orchestrator/cli/main.ts', 'orchestrator/cli/message.ts'],
  );
  const second = await launch();
  assert.deepEqual([second.code, second.out, second.how], [3, 'bundle v1 a b', 'bundle']);
});

test('a changed source, or one whose time alone changed, makes the bundle stale', async () => {
  await launch();
  writeFileSync(message, "export const message = 'v2, longer';\n");
  const edited = await launch();
  assert.equal(edited.out, 'bundle v2, longer a b');
  assert.equal(edited.how, 'rebuilt bundle (orchestrator/cli/message.ts changed)');
  // Same size and content, an older time (a checkout or copy that keeps times): rebuilt all the same.
  utimesSync(message, new Date('2001-01-01'), new Date('2001-01-01'));
  const touched = await launch();
  assert.equal(touched.how, 'rebuilt bundle (orchestrator/cli/message.ts changed)');
  assert.equal((await launch()).how, 'bundle');
});

test('without a way to build, a stale bundle is not run: the sources are, through tsx', async () => {
  await launch();
  writeFileSync(message, "export const message = 'v3';\n");
  const bundler = join(pkg, 'orchestrator/cli/bundle.ts');
  const saved = readFileSync(bundler);
  rmSync(bundler);
  try {
    const fallback = await launch();
    assert.deepEqual([fallback.code, fallback.out], [3, 'sources v3 a b']);
    assert.match(fallback.how, /^sources \(orchestrator\/cli\/message\.ts changed; not rebuilt: /);
  } finally {
    writeFileSync(bundler, saved);
  }
  assert.equal((await launch()).out, 'bundle v3 a b');
});

test('while another process builds, the sources run; a lock left by a killed build is taken over', async () => {
  writeFileSync(message, "export const message = 'v4';\n");
  const held = join(pkg, 'dist/.building');
  mkdirSync(held);
  try {
    const waiting = await launch();
    assert.equal(waiting.out, 'sources v4 a b');
    assert.match(waiting.how, /not rebuilt: another esweep is building it/);
    utimesSync(held, new Date(Date.now() - 600_000), new Date(Date.now() - 600_000));
    const takeover = await launch();
    assert.deepEqual(
      [takeover.out, takeover.how],
      ['bundle v4 a b', 'rebuilt bundle (orchestrator/cli/message.ts changed)'],
    );
  } finally {
    rmSync(held, { recursive: true, force: true });
  }
});

test('processes started together on a stale bundle all run the current sources', async () => {
  writeFileSync(message, "export const message = 'v5';\n");
  const runs = await Promise.all([launch(), launch(), launch(), launch()]);
  for (const run of runs) assert.match(run.out, /^(bundle|sources) v5 a b$/, run.how);
  assert.ok(runs.some((run) => run.how.startsWith('rebuilt bundle')));
  assert.equal((await launch()).how, 'bundle');
});

test('ESWEEP_LAUNCH=sources runs the sources although the bundle is fresh', async () => {
  await launch();
  const forced = await launch({ ESWEEP_LAUNCH: 'sources' });
  assert.deepEqual([forced.out, forced.how], ['sources v5 a b', 'sources (ESWEEP_LAUNCH=sources)']);
});
