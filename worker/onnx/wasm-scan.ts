/**
 * Model bytes read straight into a WebAssembly memory, so that the float32 zero-pattern scan can
 * run as a SIMD kernel over the initializers' raw data where protobufjs left it (a decoded
 * message's bytes fields are views into the bytes it decoded), at any alignment, with no copy.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inputReadError } from '../../common/validation.ts';
import {
  type Code,
  encodeModule,
  type FunctionSpec,
  forRange,
  I32,
  op,
  V128,
  type ValueType,
  type WasmMemory,
  wasm,
} from '../wasm/assembler.ts';

/** Each group of 32 float32s (128 bytes, eight vectors) gives one 32-bit word of the mask. */
const GROUP_BYTES = 128;

/**
 * scanFloat32(at, groups, out): for each group g of 32 float32s from byte `at + 128·g`, stores at
 * `out + 4·g` the word whose bit k is set where float k of the group has a magnitude bit (so ±0
 * is zero, NaN and subnormals are not). A group of ±0s costs one test of the OR of its vectors.
 */
function scanFloat32Kernel(): FunctionSpec {
  const [at, groups, out] = [0, 1, 2];
  const [g, address] = [3, 4];
  const vectors = [5, 6, 7, 8, 9, 10, 11, 12];
  const magnitude = op.i32x4([0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff]);
  const zero = op.i32x4([0, 0, 0, 0]);
  const load: Code = vectors.flatMap((v, j) => [
    ...op.get(address),
    ...op.v128Load(16 * j),
    ...magnitude,
    ...op.v128And,
    ...op.set(v),
  ]);
  const anyBit: Code = [
    ...op.get(vectors[0]),
    ...vectors.slice(1).flatMap((v) => [...op.get(v), ...op.v128Or]),
    ...op.v128AnyTrue,
  ];
  const word: Code = vectors.flatMap((v, j) => [
    ...op.get(v),
    ...zero,
    ...op.i32x4Ne,
    ...op.i32x4Bitmask,
    ...(j > 0 ? [...op.i32(4 * j), ...op.shl, ...op.or] : []),
  ]);
  return {
    name: 'scanFloat32',
    params: [I32, I32, I32],
    locals: [I32, I32, ...vectors.map((): ValueType => V128)],
    body: forRange(g, op.i32(0), op.get(groups), [
      ...op.get(at),
      ...op.get(g),
      ...op.i32(7),
      ...op.shl,
      ...op.add,
      ...op.set(address),
      ...load,
      ...op.get(out),
      ...op.get(g),
      ...op.i32(2),
      ...op.shl,
      ...op.add,
      ...anyBit,
      ...op.ifI32,
      ...word,
      ...op.else,
      ...op.i32(0),
      ...op.end,
      ...op.i32Store,
    ]),
  };
}

let compiled: object | undefined;

interface Scanner {
  scanFloat32: (at: number, groups: number, out: number) => void;
  /** Byte offset of the area the kernel writes mask words to (past the file's bytes). */
  scratch: number;
  /** Mask words the scratch area holds. */
  scratchWords: number;
  memory: WasmMemory;
}

/** The kernel instance of each memory that holds model bytes, by the memory's buffer. */
const scanners = new WeakMap<ArrayBuffer, Scanner>();

const PAGE = 65_536;
/** The largest memory a 32-bit WebAssembly module can address, in pages. */
const MAX_PAGES = 65_536;

/**
 * `bytes` in a fresh WebAssembly memory with a scratch area after them big enough for the mask of
 * every float32 tensor they can hold; null when that would not fit in a memory. The memory never
 * grows, so the returned view (and every view into it) stays attached.
 */
function memoryFor(size: number): { memory: WasmMemory; scanner: Scanner } | null {
  const scratch = Math.ceil(size / 16) * 16;
  const scratchWords = Math.ceil(size / GROUP_BYTES) + 1;
  const pages = Math.max(1, Math.ceil((scratch + scratchWords * 4) / PAGE));
  if (pages > MAX_PAGES) return null;
  let memory: WasmMemory;
  try {
    memory = new wasm.Memory({ initial: pages, maximum: pages });
  } catch {
    return null;
  }
  compiled ??= new wasm.Module(encodeModule([scanFloat32Kernel()]));
  const instance = new wasm.Instance(compiled, { env: { memory } });
  const scanFloat32 = (instance.exports as Pick<Scanner, 'scanFloat32'>).scanFloat32;
  const scanner = { scanFloat32, scratch, scratchWords, memory };
  scanners.set(memory.buffer, scanner);
  return { memory, scanner };
}

/**
 * Copies `bytes` into a fresh WebAssembly memory (with its scan kernel) and returns the view of
 * them there; `bytes` itself when they do not fit one.
 */
export function inWasmMemory(bytes: Uint8Array): Uint8Array {
  const made = memoryFor(bytes.length);
  if (!made) return bytes;
  const view = new Uint8Array(made.memory.buffer, 0, bytes.length);
  view.set(bytes);
  return view;
}

/**
 * Reads a model file into a fresh WebAssembly memory and returns the view of its bytes (a file
 * too large for one is read into an ordinary buffer). Errors as readInputBytes.
 */
export function readModelBytes(path: string, what: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const made = memoryFor(size);
    const view = made ? new Uint8Array(made.memory.buffer, 0, size) : new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, view, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === size ? view : view.subarray(0, read);
  } catch (error) {
    throw inputReadError(path, what, error);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes the mask words `bits` for the float32s of `bytes` (set where a float has a magnitude bit)
 * by the SIMD kernel, when `bytes` live in a memory made here, and returns how many floats it read:
 * whole groups of 32 from the first, the caller reads the rest; 0 (nothing done) elsewhere.
 */
export function scanFloat32InPlace(bytes: Uint8Array, bits: Uint32Array): number {
  const scanner = scanners.get(bytes.buffer as ArrayBuffer);
  if (!scanner) return 0;
  const groups = Math.min(bytes.length >>> 7, scanner.scratchWords);
  if (groups === 0) return 0;
  scanner.scanFloat32(bytes.byteOffset, groups, scanner.scratch);
  bits.set(new Uint32Array(scanner.memory.buffer, scanner.scratch, groups));
  return groups * 32;
}
