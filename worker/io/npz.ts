/**
 * NumPy `.npz` archives: a zip of `.npy` members (stored, as `np.savez` writes, or deflated, as
 * `np.savez_compressed` writes). The key of a member is its name without the `.npy` suffix.
 * Reading trusts nothing in the file: the zip directory is read once, and a deflated member is
 * inflated only up to the length its own .npy header declares (a small file may inflate to gigabytes).
 */
import { Inflate, type Zippable, zipSync } from 'fflate';
import { InputError } from '../../common/errors.ts';
import type { NdArray } from './dtype.ts';
import { isNpy, npyExtent, parseNpy, serializeNpy } from './npy.ts';

export type { DType, NdArray, TypedData } from './dtype.ts';

const NPY_SUFFIX = '.npy';
// A fixed timestamp keeps the archive bytes a pure function of the arrays (stable artifact hashes).
const MTIME = new Date('2000-01-01T00:00:00Z');
/** Compressed bytes handed to the inflater at a time; at most about 1 MiB comes out of them. */
const INFLATE_CHUNK = 1024;

interface Member {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  /** The member's compressed bytes. */
  data: Uint8Array;
}

/**
 * Reads every member of an .npz archive. Problems throw InputError with one line naming the
 * member (the caller prefixes the file path).
 */
export function readNpz(bytes: Uint8Array): Map<string, NdArray> {
  const arrays = new Map<string, NdArray>();
  // A plain view: a Buffer's slice() would share memory where parsing expects a copy.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const member of members(plain)) {
    const { name } = member;
    const key = name.endsWith(NPY_SUFFIX) ? name.slice(0, -NPY_SUFFIX.length) : name;
    if (arrays.has(key)) throw new InputError(`member '${name}': duplicate array name '${key}'`);
    try {
      arrays.set(key, parseNpy(memberBytes(member)));
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
  const zippable: Zippable = {};
  for (const [key, array] of entries) {
    if (key === '') throw new Error('npz array names must not be empty');
    zippable[`${key}${NPY_SUFFIX}`] = [
      serializeNpy(array),
      { level: options.compress ? 6 : 0, mtime: MTIME },
    ];
  }
  return zipSync(zippable);
}

const corrupt = (why: string) => new InputError(`corrupt or truncated .npz archive (zip: ${why})`);

/** The file members (directory entries carry no array), from one pass over the zip's directory. */
function members(bytes: Uint8Array): Member[] {
  if (isNpy(bytes)) throw new InputError('a single .npy array, not an .npz archive (a zip of .npy files)');
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new InputError('not an .npz archive (not a zip file: it does not start with PK)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-directory record: the last 22 bytes, unless an archive comment (≤ 64 KiB) follows it.
  let end = bytes.length - 22;
  const stop = Math.max(0, end - 0xffff);
  while (end >= stop && view.getUint32(end, true) !== 0x06054b50) end--;
  if (end < stop) throw corrupt('no end of central directory');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names = new TextDecoder();
  const found: Member[] = [];
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw corrupt('bad central directory');
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + skip;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new InputError(`member '${name}': encrypted zip members are not supported`);
    if (compressed === 0xffffffff || local === 0xffffffff) {
      throw new InputError(`member '${name}': zip64 members (over 4 GiB) are not supported`);
    }
    if (method !== 0 && method !== 8) {
      throw new InputError(
        `member '${name}': zip compression method ${method} (expected stored or deflated)`,
      );
    }
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) {
      throw corrupt(`bad local header of '${name}'`);
    }
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > bytes.length) throw corrupt(`'${name}' runs past the end`);
    found.push({ name, method, data: bytes.subarray(start, start + compressed) });
  }
  return found;
}

/**
 * A member's uncompressed bytes. A deflated one is inflated chunk by chunk and stopped as soon as
 * it runs past the length its .npy header declares.
 */
function memberBytes(member: Member): Uint8Array {
  if (member.method === 0) return member.data;
  const chunks: Uint8Array[] = [];
  let length = 0;
  let limit = Number.POSITIVE_INFINITY;
  let described = '';
  const inflater = new Inflate((chunk) => {
    chunks.push(chunk);
    length += chunk.length;
    if (limit === Number.POSITIVE_INFINITY) {
      const extent = npyExtent(concat(chunks, length));
      if (extent) ({ byteLength: limit, described } = extent);
    }
  });
  try {
    for (let at = 0; at < member.data.length && length <= limit; at += INFLATE_CHUNK) {
      const end = Math.min(at + INFLATE_CHUNK, member.data.length);
      inflater.push(member.data.subarray(at, end), end === member.data.length);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw corrupt(error instanceof Error ? error.message : String(error));
  }
  if (length > limit) {
    throw new InputError(`data runs past the ${limit} bytes its ${described} needs (stopped inflating)`);
  }
  return concat(chunks, length);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  chunks.splice(0, chunks.length, out);
  return out;
}
