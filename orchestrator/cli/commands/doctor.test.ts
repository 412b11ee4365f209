import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DoctorReport } from './doctor.ts';

const CLI = fileURLToPath(new URL('../../../bin/esweep.js', import.meta.url));
const NOT_INSTALLED =
  /^@tensorflow\/tfjs-node(-gpu)? is not installed \(optional: its install script must download libtensorflow\)$/;

function doctor(...args: string[]): { status: number | null; report: DoctorReport } {
  const run = spawnSync(process.execPath, [CLI, 'doctor', '--json', ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(run.stderr, '');
  return { status: run.status, report: JSON.parse(run.stdout) as DoctorReport };
}

// This machine has no libtensorflow (the tfjs-node packages are optional and not installed here).
test('doctor --quick --json: wasm and cpu work, node and gpu do not and say why; a LeNet step really ran on wasm', () => {
  const { status, report } = doctor('--quick');
  assert.equal(status, 0);
  assert.equal(report.ok, true);
  assert.equal(report.requested, 'auto');
  assert.equal(report.selected, 'wasm');
  assert.deepEqual(
    report.backends.map((b) => [b.name, b.usable]),
    [
      ['gpu', false],
      ['node', false],
      ['wasm', true],
      ['cpu', true],
    ],
  );
  for (const b of report.backends) if (!b.usable) assert.match(b.reason, NOT_INSTALLED);
  assert.equal(report.problem, null);
  assert.equal(report.provenance?.gpu, false);
  assert.equal(report.versions.node, process.version);
  assert.equal(report.versions.tfjs, '4.22.0');
  assert.equal(report.devices[0].kind, 'cpu');
  assert.ok(report.devices[0].memoryBytes > 0);
  assert.equal(report.provenance?.backend, 'wasm');
  assert.deepEqual(
    report.steps.map((s) => [s.arch, s.dataset, s.batch]),
    [
      ['lenet300100', 'mnist', 100],
      ['lenet5', 'cifar10', 128],
    ],
  );
  for (const step of report.steps) {
    assert.equal(step.error, undefined);
    assert.ok(Number.isFinite(step.seconds) && step.seconds! > 0, `${step.arch}: ${step.seconds}`);
    assert.ok(Number.isFinite(step.loss) && step.loss! > 0, `${step.arch}: ${step.loss}`);
  }
});

test('doctor --backend gpu here: exit code 1, nothing selected, no step, the reason listed', () => {
  const { status, report } = doctor('--backend', 'gpu');
  assert.equal(status, 1);
  assert.equal(report.ok, false);
  assert.equal(report.requested, 'gpu');
  assert.equal(report.selected, null);
  assert.deepEqual(report.steps, []);
  const gpu = report.backends.find((b) => b.name === 'gpu');
  assert.ok(gpu && !gpu.usable);
  assert.match(gpu.reason, NOT_INSTALLED);
  assert.equal(report.problem, gpu.reason);
});

test('doctor --batch 0 is bad input: one line, exit code 2', () => {
  const run = spawnSync(process.execPath, [CLI, 'doctor', '--batch', '0'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(run.status, 2);
  assert.equal(run.stderr, "esweep: --batch: must be a whole number ≥ 1, got '0'\n");
});
