import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { selectBackend } from './backend.ts';
import { cpuDevice, type Device } from './devices.ts';
import { deviceName, runtimeProvenance } from './provenance.ts';

test('on wasm: the CPU is the device, no libtensorflow; image and node come from the environment', async () => {
  const choice = await selectBackend('wasm');
  assert.deepEqual(
    runtimeProvenance(choice, { ESWEEP_IMAGE: 'reg/esweep-worker:1.2', ESWEEP_NODE_NAME: 'gpu-node-7' }),
    {
      backend: 'wasm',
      gpu: false,
      device: cpuDevice().name,
      tfjsVersion: '4.22.0',
      libtensorflowVersion: null,
      imageTag: 'reg/esweep-worker:1.2',
      host: 'gpu-node-7',
    },
  );
  const bare = runtimeProvenance(choice, { ESWEEP_IMAGE: '' });
  assert.equal(bare.imageTag, null);
  assert.equal(bare.host, hostname());
});

test('a GPU backend is named by the cards the driver lists', () => {
  const h100: Device = { kind: 'gpu', name: 'NVIDIA H100 80GB HBM3', memoryBytes: 1, detail: '' };
  const cpu: Device = { kind: 'cpu', name: 'Some CPU', memoryBytes: 1, detail: '' };
  assert.equal(deviceName(true, [h100, h100], cpu), 'NVIDIA H100 80GB HBM3');
  assert.equal(deviceName(false, [h100], cpu), 'Some CPU');
  assert.equal(deviceName(true, [], cpu), 'NVIDIA GPU (nvidia-smi not available)');
});
