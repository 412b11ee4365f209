import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../common/errors.ts';
import {
  type BackendCandidate,
  DEFAULT_CANDIDATES,
  describeBackend,
  loadNativeBackend,
  parseBackendName,
  selectBackend,
} from './backend.ts';

// A backend tfjs knows but cannot start: setBackend answers false for it.
const BROKEN = 'esweep-test-broken';

const fakeCandidates: BackendCandidate[] = [
  {
    name: 'gpu',
    load: () => loadNativeBackend('@esweep-test/no-such-tfjs-node'),
  },
  {
    name: 'node',
    load: async () => {
      tf.registerBackend(BROKEN, () => {
        throw new Error('no libtensorflow');
      });
      return BROKEN;
    },
  },
  { name: 'wasm', load: async () => 'wasm' },
  { name: 'cpu', load: async () => 'cpu' },
];

test('falls back past a missing package and a backend that fails to initialize', async (t) => {
  t.after(() => tf.removeBackend(BROKEN));
  const choice = await selectBackend(undefined, fakeCandidates);
  assert.equal(choice.name, 'wasm');
  assert.equal(choice.tfjsName, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(
    choice.skipped.map((s) => s.name),
    ['gpu', 'node'],
  );
  assert.equal(
    choice.skipped[0].reason,
    '@esweep-test/no-such-tfjs-node is not installed (optional: its install script must download libtensorflow)',
  );
  assert.match(choice.skipped[1].reason, /setBackend\('esweep-test-broken'\) failed/);
  assert.match(
    describeBackend(choice),
    /^tfjs backend: wasm \[wasm\] \(skipped gpu: @esweep-test\/no-such-tfjs-node is not installed/,
  );
});

test('forcing an unusable backend is an InputError naming it and why, not a silent fall back', async () => {
  await assert.rejects(
    selectBackend('gpu', fakeCandidates),
    (e: unknown) =>
      e instanceof InputError &&
      /^backend 'gpu' is not usable here: @esweep-test\/no-such-tfjs-node is not installed/.test(e.message),
  );
});

test('forcing cpu and wasm activates them', async () => {
  for (const name of ['cpu', 'wasm', 'cpu'] as const) {
    const choice = await selectBackend(name);
    assert.deepEqual(choice, { name, tfjsName: name, skipped: [] });
    assert.equal(tf.getBackend(), name);
    assert.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2]), 1).dataSync()), [2, 3]);
  }
});

test('a backend name that does not exist is an InputError listing the choices', () => {
  assert.throws(
    () => parseBackendName('tpu'),
    (e: unknown) =>
      e instanceof InputError && e.message === "backend must be one of gpu, node, wasm, cpu (got 'tpu')",
  );
  assert.equal(parseBackendName('node'), 'node');
});

test('the real candidates: the first that works is chosen, every one before it says why it was skipped', async () => {
  const choice = await selectBackend();
  const order = DEFAULT_CANDIDATES.map((c) => c.name);
  assert.deepEqual(
    choice.skipped.map((s) => s.name),
    order.slice(0, order.indexOf(choice.name)),
  );
  assert.equal(tf.getBackend(), choice.tfjsName);
  for (const s of choice.skipped) assert.ok(s.reason.length > 0);
});

/** Whether an optional package is installed here (resolvable from this module). */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

test('forcing gpu gives the outcome this machine must give: tfjs-node-gpu runs if installed, else the exact reason', async () => {
  const pkg = '@tensorflow/tfjs-node-gpu';
  if (installed(pkg)) {
    // Installed means its install script fetched libtensorflow: it must load (on a GPU or not).
    const choice = await selectBackend('gpu');
    assert.equal(choice.tfjsName, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
    return;
  }
  await assert.rejects(
    selectBackend('gpu'),
    (e: unknown) =>
      e instanceof InputError &&
      e.message ===
        `backend 'gpu' is not usable here: ${pkg} is not installed (optional: its install script must download libtensorflow)`,
  );
});

test("selecting a backend and computing prints nothing (tfjs' cpu backend would greet on Node)", () => {
  // A fresh process: the greeting comes once per process, on the cpu backend's first tensor.
  const backend = fileURLToPath(new URL('./backend.ts', import.meta.url));
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const { selectBackend } = await import(${JSON.stringify(backend)});
    for (const name of ['cpu', undefined]) {
      await selectBackend(name);
      tf.add(tf.tensor1d([1]), 1).dataSync();
    }`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout + run.stderr, '');
});
