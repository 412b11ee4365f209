/**
 * The devices a trial can run on here: the CPU (always) and the NVIDIA GPUs that `nvidia-smi` lists.
 * tfjs itself names no devices, so the driver's own tool is asked; without it there is no GPU to use.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Device {
  kind: 'cpu' | 'gpu';
  name: string;
  /** Host memory for the CPU, the card's memory for a GPU. */
  memoryBytes: number;
  /** CPU: logical cores; GPU: the driver version. */
  detail: string;
}

const NVIDIA_SMI_TIMEOUT_MS = 5_000;
const MIB = 2 ** 20;

/** Parses `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): Device[] {
  return csv
    .split('\n')
    .map((line) => line.split(',').map((field) => field.trim()))
    .filter((fields) => fields.length === 3 && fields[0] !== '' && Number.isFinite(Number(fields[1])))
    .map(([name, memoryMib, driver]) => ({
      kind: 'gpu' as const,
      name,
      memoryBytes: Number(memoryMib) * MIB,
      detail: `driver ${driver}`,
    }));
}

/** The GPUs the NVIDIA driver reports; none when it (or nvidia-smi) is absent or does not answer. */
export function nvidiaGpus(): Device[] {
  const run = spawnSync(
    'nvidia-smi',
    ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'],
    { encoding: 'utf8', timeout: NVIDIA_SMI_TIMEOUT_MS },
  );
  return run.status === 0 ? parseNvidiaSmi(run.stdout) : [];
}

export function cpuDevice(): Device {
  const cores = cpus();
  return {
    kind: 'cpu',
    name: cores[0]?.model.trim() || 'unknown CPU',
    memoryBytes: totalmem(),
    detail: `${cores.length} logical cores`,
  };
}

export function listDevices(): Device[] {
  return [cpuDevice(), ...nvidiaGpus()];
}
