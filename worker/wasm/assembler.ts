/**
 * Enough of the WebAssembly binary format to write small numeric kernels by hand: i32, f64 and
 * v128 locals, f32/i32/f64/v128 loads and stores, the few 128-bit SIMD instructions the kernels use,
 * counted loops, and a module that imports its memory and exports its functions. The toolchain has
 * no WebAssembly compiler, and the kernels are a few dozen instructions each.
 */

export type ValueType = typeof I32 | typeof F64 | typeof V128;
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** A sequence of instructions. */
export type Code = number[];

function unsigned(n: number): number[] {
  const out: number[] = [];
  let rest = n >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signed(n: number): number[] {
  const out: number[] = [];
  let rest = n | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    if ((rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vector = (items: readonly number[][]): number[] => [...unsigned(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, bytes: number[]): number[] => [id, ...unsigned(bytes.length), ...bytes];

/** Natural alignment (log2 bytes), offset 0. */
const memory = (align: number): number[] => [align, 0];

/** A 128-bit SIMD instruction: the 0xfd prefix, then its number as an unsigned LEB128. */
const simd = (code: number): Code => [0xfd, ...unsigned(code)];

export const op = {
  get: (local: number): Code => [0x20, ...unsigned(local)],
  set: (local: number): Code => [0x21, ...unsigned(local)],
  tee: (local: number): Code => [0x22, ...unsigned(local)],
  i32: (n: number): Code => [0x41, ...signed(n)],
  f64zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0] as Code,
  add: [0x6a] as Code,
  sub: [0x6b] as Code,
  mul: [0x6c] as Code,
  shl: [0x74] as Code,
  shrU: [0x76] as Code,
  ltS: [0x48] as Code,
  eqz: [0x45] as Code,
  i32Load: [0x28, ...memory(2)] as Code,
  i32Store: [0x36, ...memory(2)] as Code,
  f32Load: [0x2a, ...memory(2)] as Code,
  f32Store: [0x38, ...memory(2)] as Code,
  f64Load: [0x2b, ...memory(3)] as Code,
  f64Store: [0x39, ...memory(3)] as Code,
  promote: [0xbb] as Code,
  demote: [0xb6] as Code,
  fAdd: [0xa0] as Code,
  fSub: [0xa1] as Code,
  fMul: [0xa2] as Code,
  fNe: [0x62] as Code,
  and: [0x71] as Code,
  or: [0x72] as Code,
  /** `if` without a result; close with `end`. */
  if: [0x04, 0x40] as Code,
  /** `if` whose branches leave an i32; `else` between them, close with `end`. */
  ifI32: [0x04, I32] as Code,
  else: [0x05] as Code,
  end: [0x0b] as Code,
  /** v128.load at the address plus `offset` bytes; any alignment (the hint claims 1 byte). */
  v128Load: (offset = 0): Code => [...simd(0x00), 0, ...unsigned(offset)],
  /** v128.const: four 32-bit lanes, lane 0 first. */
  i32x4: (lanes: readonly [number, number, number, number]): Code => [
    ...simd(0x0c),
    ...lanes.flatMap((lane) => [
      lane & 0xff,
      (lane >>> 8) & 0xff,
      (lane >>> 16) & 0xff,
      (lane >>> 24) & 0xff,
    ]),
  ],
  v128And: simd(0x4e),
  v128Or: simd(0x50),
  /** i32: 1 where any bit of the vector is set. */
  v128AnyTrue: simd(0x53),
  /** Lanes all ones where the two vectors' 32-bit lanes differ, else zero. */
  i32x4Ne: simd(0x38),
  /** i32: bit j is the top bit of 32-bit lane j. */
  i32x4Bitmask: simd(0xa4),
};

/** `for (v = from; v < to; v++) body`, signed comparison; `to` is evaluated every iteration. */
export function forRange(v: number, from: Code, to: Code, body: Code): Code {
  return [
    ...from,
    ...op.set(v),
    ...[0x02, 0x40], // block
    ...[0x03, 0x40], // loop
    ...op.get(v),
    ...to,
    ...op.ltS,
    ...op.eqz,
    ...[0x0d, 1], // br_if to the block's end
    ...body,
    ...op.get(v),
    ...op.i32(1),
    ...op.add,
    ...op.set(v),
    ...[0x0c, 0], // br to the loop's start
    ...op.end,
    ...op.end,
  ];
}

/** The byte address of element `index` (a local) of an array at `base` (a local) of 2^shift-byte elements. */
export function element(base: number, index: number, shift: number): Code {
  return [...op.get(base), ...op.get(index), ...op.i32(shift), ...op.shl, ...op.add];
}

export interface FunctionSpec {
  name: string;
  params: readonly ValueType[];
  /** Declared after the parameters, so the first one's index is `params.length`. */
  locals: readonly ValueType[];
  body: Code;
}

/**
 * A module that imports its memory as `env.memory` and exports each function under its name.
 * Functions return nothing.
 */
export function encodeModule(functions: readonly FunctionSpec[]): Uint8Array<ArrayBuffer> {
  const types = functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), ...vector([])]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, ...unsigned(1)];
  const exports = functions.map((f, i) => [...name(f.name), 0x00, ...unsigned(i)]);
  const bodies = functions.map((f) => {
    const body = [...vector(f.locals.map((type) => [1, type])), ...f.body, ...op.end];
    return [...unsigned(body.length), ...body];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => unsigned(i)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ]);
}

// lib ES2023 has no WebAssembly typings; the global exists in Node.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
/** The WebAssembly global, typed as far as the kernels use it. */
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
