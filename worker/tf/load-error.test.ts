import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNativeBackend } from './backend.ts';
import { explainLoadError } from './load-error.ts';

const dlopen = (file: string) =>
  `${file}: cannot open shared object file: No such file or directory\n    at Module._extensions..node`;

test('each missing library is named with the part of the stack it belongs to', () => {
  assert.equal(
    explainLoadError(dlopen('libcuda.so.1')),
    'no NVIDIA driver: libcuda.so.1 not found (no GPU here, or the container was started without the NVIDIA runtime)',
  );
  assert.equal(
    explainLoadError(dlopen('libcudart.so.12')),
    'CUDA runtime missing: libcudart.so.12 not found (libtensorflow was built for another CUDA version, or CUDA is not on LD_LIBRARY_PATH)',
  );
  assert.match(
    explainLoadError(dlopen('libcublasLt.so.12')),
    /^CUDA runtime missing: libcublasLt\.so\.12 not found/,
  );
  assert.match(explainLoadError(dlopen('libcudnn.so.9')), /^cuDNN missing: libcudnn\.so\.9 not found/);
  assert.match(
    explainLoadError(dlopen('libtensorflow.so.2')),
    /^libtensorflow missing: libtensorflow\.so\.2 not found/,
  );
  assert.match(
    explainLoadError(
      "Cannot find module '/app/node_modules/@tensorflow/tfjs-node-gpu/lib/napi-v8/tfjs_binding.node'",
    ),
    /^native binding not built: \/app\/.*tfjs_binding\.node is missing/,
  );
  assert.equal(
    explainLoadError("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by x)"),
    'system C library too old: GLIBC_2.38 required by libtensorflow',
  );
});

test('an unknown failure keeps the loader’s first line', () => {
  assert.equal(explainLoadError('something odd\nstack'), 'something odd');
});

test('a native package that fails to load is reported with the readable reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'esweep-load-error-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const module = join(dir, 'fake-tfjs-node-gpu.mjs');
  writeFileSync(module, `throw new Error(${JSON.stringify(dlopen('libcudart.so.12'))});\n`);
  await assert.rejects(loadNativeBackend(module), (e: unknown) => {
    assert.equal(
      (e as Error).message,
      `${module} failed to load: CUDA runtime missing: libcudart.so.12 not found ` +
        '(libtensorflow was built for another CUDA version, or CUDA is not on LD_LIBRARY_PATH)',
    );
    return true;
  });
});
