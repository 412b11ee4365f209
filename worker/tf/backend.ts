/**
 * Picks the tfjs backend at start-up: tfjs-node-gpu → tfjs-node → wasm → cpu (docs/architecture.md), or the one
 * the user forces with `--backend`. Every candidate is tried for real (import, then `tf.setBackend`,
 * whose `false` means the backend failed to initialize) and the next one is used on any failure.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { explainLoadError } from './load-error.ts';

// tfjs prints its chatter through one switch: the PROD flag. It gates only tfjs' own console.warn/log
// (the cpu backend's "looks like you are running TensorFlow.js in Node.js" banner, "platform already
// set" when tfjs-node loads, "initialization of backend X failed" — which we report ourselves).
// In tfjs 4.22 it changes no computation; IS_NODE must stay true, the wasm backend reads its .wasm
// file from node_modules through it.
tf.enableProdMode();

export const BackendName = z.enum(['gpu', 'node', 'wasm', 'cpu']);
export type BackendName = z.infer<typeof BackendName>;

/** One way to get a backend: `load` makes it available (imports its package) and names it for tfjs. */
export interface BackendCandidate {
  name: BackendName;
  load(): Promise<string>;
}

export interface SkippedBackend {
  name: BackendName;
  reason: string;
}

export interface BackendChoice {
  /** Ours: gpu | node | wasm | cpu. */
  name: BackendName;
  /** tfjs' own name for it (`tf.getBackend()`): tensorflow | wasm | cpu. */
  tfjsName: string;
  /** Candidates tried before this one, each with why it could not be used. */
  skipped: SkippedBackend[];
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
}

/**
 * Imports a tfjs-node flavour, which registers the 'tensorflow' backend. The specifier is a variable
 * because the package is optional and usually absent, so tsc must not insist on resolving it.
 */
export async function loadNativeBackend(pkg: string): Promise<string> {
  try {
    await import(pkg);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && firstLine(error).includes(`'${pkg}'`)) {
      throw new Error(`${pkg} is not installed (optional: its install script must download libtensorflow)`);
    }
    // Typically its native binding, libtensorflow, or a CUDA library it links is missing.
    throw new Error(
      `${pkg} failed to load: ${explainLoadError(error instanceof Error ? error.message : String(error))}`,
    );
  }
  return 'tensorflow';
}

/** The candidates in preference order (docs/architecture.md). */
export const DEFAULT_CANDIDATES: readonly BackendCandidate[] = [
  { name: 'gpu', load: () => loadNativeBackend('@tensorflow/tfjs-node-gpu') },
  { name: 'node', load: () => loadNativeBackend('@tensorflow/tfjs-node') },
  // Registered by the static import above; in Node it reads dist/*.wasm next to its own script.
  { name: 'wasm', load: async () => 'wasm' },
  { name: 'cpu', load: async () => 'cpu' },
];

/** Validates a user-given backend name (flag, env, trial file); an InputError names the choices. */
export function parseBackendName(value: string): BackendName {
  const parsed = BackendName.safeParse(value);
  if (!parsed.success) {
    throw new InputError(`backend must be one of ${BackendName.options.join(', ')} (got '${value}')`);
  }
  return parsed.data;
}

async function tryCandidate(candidate: BackendCandidate): Promise<string> {
  const tfjsName = await candidate.load();
  if (!(await tf.setBackend(tfjsName)))
    throw new Error(`tf.setBackend('${tfjsName}') failed to initialize it`);
  await tf.ready();
  return tfjsName;
}

/** What one candidate did when tried: usable (and under which tfjs name), or why not. */
export type BackendProbe =
  | { name: BackendName; usable: true; tfjsName: string }
  | { name: BackendName; usable: false; reason: string };

/**
 * Tries every candidate, not just until one works (`esweep doctor`). Afterwards the last usable one
 * is active: call selectBackend to choose.
 */
export async function probeBackends(
  candidates: readonly BackendCandidate[] = DEFAULT_CANDIDATES,
): Promise<BackendProbe[]> {
  const probes: BackendProbe[] = [];
  for (const candidate of candidates) {
    try {
      probes.push({ name: candidate.name, usable: true, tfjsName: await tryCandidate(candidate) });
    } catch (error) {
      probes.push({ name: candidate.name, usable: false, reason: firstLine(error) });
    }
  }
  return probes;
}

/**
 * Selects and activates a backend. Without `force`, the first candidate that works wins (cpu always
 * does). With `force`, only that one is tried, and its failure is an InputError: someone who asks for
 * the GPU wants a clear stop, not a silent fall back to a CPU that takes days.
 */
export async function selectBackend(
  force?: string,
  candidates: readonly BackendCandidate[] = DEFAULT_CANDIDATES,
): Promise<BackendChoice> {
  const forced = force === undefined ? undefined : parseBackendName(force);
  const skipped: SkippedBackend[] = [];
  for (const candidate of candidates) {
    if (forced !== undefined && candidate.name !== forced) continue;
    try {
      const tfjsName = await tryCandidate(candidate);
      return { name: candidate.name, tfjsName, skipped };
    } catch (error) {
      const reason = firstLine(error);
      if (forced !== undefined) throw new InputError(`backend '${forced}' is not usable here: ${reason}`);
      skipped.push({ name: candidate.name, reason });
    }
  }
  throw new Error(`no tfjs backend could be initialized: ${describeSkipped(skipped)}`);
}

function describeSkipped(skipped: readonly SkippedBackend[]): string {
  return skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
}

/** One line for logs: which backend runs and why the preferred ones did not. */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.length > 0 ? ` (skipped ${describeSkipped(choice.skipped)})` : '';
  return `tfjs backend: ${choice.name} [${choice.tfjsName}]${why}`;
}
