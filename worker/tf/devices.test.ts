import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuDevice, parseNvidiaSmi } from './devices.ts';

test('nvidia-smi lines become GPUs with their memory; blank and malformed lines are dropped', () => {
  const csv =
    'NVIDIA H100 80GB HBM3, 81559, 550.54.15\n\nNVIDIA A100-SXM4-40GB, 40960, 535.1\nNo devices were found\n';
  assert.deepEqual(parseNvidiaSmi(csv), [
    { kind: 'gpu', name: 'NVIDIA H100 80GB HBM3', memoryBytes: 81559 * 2 ** 20, detail: 'driver 550.54.15' },
    { kind: 'gpu', name: 'NVIDIA A100-SXM4-40GB', memoryBytes: 40960 * 2 ** 20, detail: 'driver 535.1' },
  ]);
});

test('the CPU is always a device, with host memory and its core count', () => {
  const cpu = cpuDevice();
  assert.equal(cpu.kind, 'cpu');
  assert.ok(cpu.name.length > 0);
  assert.ok(cpu.memoryBytes > 0);
  assert.match(cpu.detail, /^\d+ logical cores$/);
});
