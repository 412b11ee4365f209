/**
 * Where a trial ran, as the worker knows it: which backend, on which device, with which tfjs (and
 * libtensorflow) build, from which image, on which host. Enough to tell a GPU result from a CPU one
 * and to find the node or image behind an outlier.
 */
import { hostname } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { BackendChoice } from './backend.ts';
import { cpuDevice, type Device, nvidiaGpus } from './devices.ts';

export interface Provenance {
  backend: BackendChoice['name'];
  /** Whether the backend computes on a GPU (tfjs-node-gpu without a usable GPU runs on the CPU). */
  gpu: boolean;
  /** The device the backend computes on, by name: a GPU model or the CPU model. */
  device: string;
  tfjsVersion: string;
  /** libtensorflow's own version on the native backends (gpu, node); null on wasm and cpu. */
  libtensorflowVersion: string | null;
  /** The worker image (ESWEEP_IMAGE, baked in at build time); null outside an image. */
  imageTag: string | null;
  /** The node (ESWEEP_NODE_NAME, from the pod's spec.nodeName) or else this machine's host name. */
  host: string;
}

// Empty counts as unset: the image sets ESWEEP_IMAGE from a build argument that may be left out.
const Environment = z.object({
  ESWEEP_IMAGE: z.string().optional(),
  ESWEEP_NODE_NAME: z.string().optional(),
});

/** The parts of tfjs-node's backend read here; absent on every other backend. */
const NativeBackend = z.object({
  isUsingGpuDevice: z.boolean(),
  binding: z.object({ TF_Version: z.string() }),
});

function nativeBackend(): z.infer<typeof NativeBackend> | null {
  const parsed = NativeBackend.safeParse(tf.backend());
  return parsed.success ? parsed.data : null;
}

/** The device name for a backend; `gpus` is what the driver lists (passed in for tests). */
export function deviceName(onGpu: boolean, gpus: readonly Device[], cpu: Device = cpuDevice()): string {
  if (!onGpu) return cpu.name;
  const names = [...new Set(gpus.map((gpu) => gpu.name))];
  return names.length > 0 ? names.join(' + ') : 'NVIDIA GPU (nvidia-smi not available)';
}

/** Provenance of the active backend (call after selectBackend). */
export function runtimeProvenance(
  choice: BackendChoice,
  env: Record<string, string | undefined> = process.env,
): Provenance {
  const { ESWEEP_IMAGE, ESWEEP_NODE_NAME } = Environment.parse(env);
  const native = choice.tfjsName === 'tensorflow' ? nativeBackend() : null;
  const onGpu = native?.isUsingGpuDevice ?? false;
  return {
    backend: choice.name,
    gpu: onGpu,
    device: deviceName(onGpu, onGpu ? nvidiaGpus() : []),
    tfjsVersion: tf.version.tfjs,
    libtensorflowVersion: native?.binding.TF_Version ?? null,
    imageTag: ESWEEP_IMAGE || null,
    host: ESWEEP_NODE_NAME || hostname(),
  };
}
