/**
 * NumPy `.npz` archives: a zip of `.npy` members (stored, as `np.savez` writes, or deflated, as
 * `np.savez_compressed` writes). The key of a member is its name without the `.npy` suffix.
 */
import { unzipSync, type Zippable, zipSync } from 'fflate';
import { InputError } from '../../common/errors.ts';
import type { NdArray } from './dtype.ts';
import { isNpy, parseNpy, serializeNpy } from './npy.ts';

export type { DType, NdArray, TypedData } from './dtype.ts';

const NPY_SUFFIX = '.npy';
// A fixed timestamp keeps the archive bytes a pure function of the arrays (stable artifact hashes).
const MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * Reads every member of an .npz archive. Problems throw InputError with one line naming the
 * member (the caller prefixes the file path).
 */
export function readNpz(bytes: Uint8Array): Map<string, NdArray> {
  const arrays = new Map<string, NdArray>();
  for (const name of memberNames(bytes)) {
    const key = name.endsWith(NPY_SUFFIX) ? name.slice(0, -NPY_SUFFIX.length) : name;
    if (arrays.has(key)) throw new InputError(`member '${name}': duplicate array name '${key}'`);
    try {
      arrays.set(key, parseNpy(unzipOne(bytes, name)));
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`member '${name}': ${error.message}`);
      throw error;
    }
  }
  return arrays;
}

/** Writes arrays as an .npz archive (members `<key>.npy`) that `np.load` reads. */
export function writeNpz(
  arrays: Map<string, NdArray> | Record<string, NdArray>,
  options: { compress?: boolean } = {},
): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays] : Object.entries(arrays);
  const members: Zippable = {};
  for (const [key, array] of entries) {
    if (key === '') throw new Error('npz array names must not be empty');
    members[`${key}${NPY_SUFFIX}`] = [serializeNpy(array), { level: options.compress ? 6 : 0, mtime: MTIME }];
  }
  return zipSync(members);
}

/** The names of the archive's file members (directory entries carry no array). */
function memberNames(bytes: Uint8Array): string[] {
  if (isNpy(bytes)) throw new InputError('a single .npy array, not an .npz archive (a zip of .npy files)');
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new InputError('not an .npz archive (not a zip file: it does not start with PK)');
  }
  const names: string[] = [];
  unzipGuarded(bytes, (name) => {
    if (!name.endsWith('/')) names.push(name);
    return false;
  });
  return names;
}

/** Inflates one member at a time so that a corrupt member is named in the error. */
function unzipOne(bytes: Uint8Array, name: string): Uint8Array {
  return unzipGuarded(bytes, (candidate) => candidate === name)[name];
}

function unzipGuarded(bytes: Uint8Array, select: (name: string) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter: (file) => select(file.name) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`corrupt or truncated .npz archive (zip: ${reason})`);
  }
}
