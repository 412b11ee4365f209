/**
 * The sparse dense layer's products as WebAssembly functions over one memory per layer. The same
 * loops run faster in WebAssembly than in JS (no bounds checks, no typed-array dispatch; figures in
 * docs/sparse-training.md); they
 * keep JS's arithmetic: every product and sum in float64, rounded to float32 where JS stores into
 * a Float32Array, so the results are the same bits. All addresses are byte offsets.
 */
import {
  type Code,
  element,
  encodeModule,
  F64,
  type FunctionSpec,
  forRange,
  I32,
  op,
  type WasmMemory,
  wasm,
} from '../../wasm/assembler.ts';

export type { WasmMemory };

/** Byte address of row `r` (a local) of a row-major array at `base` (a local), `width` (a local) elements of 4 bytes. */
function rowAddress(base: number, r: number, width: number): Code {
  return [...op.get(base), ...op.get(r), ...op.get(width), ...op.mul, ...op.i32(2), ...op.shl, ...op.add];
}

/** `xi = f64(x[at + i]) − c`: the input less the skipped value. */
function inputLessCommon(at: number, i: number, c: number): Code {
  return [...element(at, i, 2), ...op.f32Load, ...op.promote, ...op.get(c), ...op.fSub];
}

/**
 * forwardRows(x, c, base, y, rows, inputs, outputs, active, width, start, output, w, nonzero, end):
 * y[r] = base + Σ (x[r,i] − c)·w over the kept weights (i, o) of active inputs where x[r,i] ≠ c;
 * lists those inputs at nonzero[r·width …] and stores the list's end (an index into nonzero) at end[r].
 */
function forwardRows(): FunctionSpec {
  const [x, c, base, y, rows, inputs, outputs, active, width, start, output, w, nonzero, end] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
  ];
  const [r, at, to, count, o, a, i, j, last, p, xi] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
  return {
    name: 'forwardRows',
    params: [I32, F64, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64],
    body: forRange(r, op.i32(0), op.get(rows), [
      ...rowAddress(x, r, inputs),
      ...op.set(at),
      ...rowAddress(y, r, outputs),
      ...op.set(to),
      ...rowAddress(nonzero, r, width),
      ...op.set(count),
      ...forRange(o, op.i32(0), op.get(outputs), [
        ...element(to, o, 2),
        ...element(base, o, 2),
        ...op.f32Load,
        ...op.f32Store,
      ]),
      ...forRange(a, op.i32(0), op.get(width), [
        ...element(active, a, 2),
        ...op.i32Load,
        ...op.set(i),
        ...inputLessCommon(at, i, c),
        ...op.tee(xi),
        ...op.f64zero,
        ...op.fNe,
        ...op.if,
        ...[...op.get(count), ...op.get(i), ...op.i32Store],
        ...[...op.get(count), ...op.i32(4), ...op.add, ...op.set(count)],
        ...[...element(start, i, 2), ...op.i32(4), ...op.add, ...op.i32Load, ...op.set(last)],
        ...forRange(j, [...element(start, i, 2), ...op.i32Load], op.get(last), [
          // y[to + output[j]] = f32(y[…] + xi·w[j])
          ...[
            ...element(output, j, 2),
            ...op.i32Load,
            ...op.i32(2),
            ...op.shl,
            ...op.get(to),
            ...op.add,
            ...op.tee(p),
          ],
          ...[...op.get(p), ...op.f32Load, ...op.promote],
          ...[...op.get(xi), ...element(w, j, 2), ...op.f32Load, ...op.promote, ...op.fMul, ...op.fAdd],
          ...[...op.demote, ...op.f32Store],
        ]),
        ...op.end,
      ]),
      // end[r] = (count − nonzero) / 4
      ...[...element(end, r, 2), ...op.get(count), ...op.get(nonzero), ...op.sub, ...op.i32(2), ...op.shrU],
      ...op.i32Store,
    ]),
  };
}

/**
 * weightSums(x, c, d, rows, inputs, outputs, start, output, nonzero, end, width, sums):
 * sums[j] += Σ_r (x[r,i] − c)·d[r,o] for each kept weight j = (i, o), over the inputs forwardRows listed.
 */
function weightSums(): FunctionSpec {
  const [x, c, d, rows, inputs, outputs, start, output, nonzero, end, width, sums] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
  ];
  const [r, at, from, n, last, i, j, stop, p, xi] = [12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  return {
    name: 'weightSums',
    params: [I32, F64, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F64],
    body: forRange(r, op.i32(0), op.get(rows), [
      ...rowAddress(x, r, inputs),
      ...op.set(at),
      ...rowAddress(d, r, outputs),
      ...op.set(from),
      ...[...element(end, r, 2), ...op.i32Load, ...op.set(last)],
      ...forRange(n, [...op.get(r), ...op.get(width), ...op.mul], op.get(last), [
        ...[...element(nonzero, n, 2), ...op.i32Load, ...op.set(i)],
        ...inputLessCommon(at, i, c),
        ...op.set(xi),
        ...[...element(start, i, 2), ...op.i32(4), ...op.add, ...op.i32Load, ...op.set(stop)],
        ...forRange(j, [...element(start, i, 2), ...op.i32Load], op.get(stop), [
          // sums[j] += xi·d[from + output[j]]
          ...[...element(sums, j, 3), ...op.tee(p), ...op.get(p), ...op.f64Load, ...op.get(xi)],
          ...[...element(output, j, 2), ...op.i32Load, ...op.i32(2), ...op.shl, ...op.get(from), ...op.add],
          ...[...op.f32Load, ...op.promote, ...op.fMul, ...op.fAdd, ...op.f64Store],
        ]),
      ]),
    ]),
  };
}

/**
 * The input gradient dx[r,i] = Σ w·d[r,o] over the kept weights (i, o) of the inputs listed for
 * row r. `perRow`: inputGradientsAt(d, rows, inputs, outputs, start, output, w, list, end, width, dx)
 * reads row r's list at list[r·width …end[r]] (forwardRows' nonzero lists); otherwise
 * inputGradients(d, rows, inputs, outputs, start, output, w, list, end, width, dx) reads
 * list[0 … width] for every row (the active inputs) and ignores `end`.
 */
function inputGradients(perRow: boolean): FunctionSpec {
  const [d, rows, inputs, outputs, start, output, w, list, end, width, dx] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ];
  const [r, at, from, n, last, i, j, stop, sum] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
  const first = perRow ? [...op.get(r), ...op.get(width), ...op.mul] : op.i32(0);
  const bound = perRow ? [...element(end, r, 2), ...op.i32Load] : op.get(width);
  return {
    name: perRow ? 'inputGradientsAt' : 'inputGradients',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, F64],
    body: forRange(r, op.i32(0), op.get(rows), [
      ...rowAddress(dx, r, inputs),
      ...op.set(at),
      ...rowAddress(d, r, outputs),
      ...op.set(from),
      ...bound,
      ...op.set(last),
      ...forRange(n, first, op.get(last), [
        ...[...element(list, n, 2), ...op.i32Load, ...op.set(i)],
        ...[...op.f64zero, ...op.set(sum)],
        ...[...element(start, i, 2), ...op.i32(4), ...op.add, ...op.i32Load, ...op.set(stop)],
        ...forRange(j, [...element(start, i, 2), ...op.i32Load], op.get(stop), [
          // sum += w[j]·d[from + output[j]]
          ...[...op.get(sum), ...element(w, j, 2), ...op.f32Load, ...op.promote],
          ...[...element(output, j, 2), ...op.i32Load, ...op.i32(2), ...op.shl, ...op.get(from), ...op.add],
          ...[...op.f32Load, ...op.promote, ...op.fMul, ...op.fAdd, ...op.set(sum)],
        ]),
        ...[...element(at, i, 2), ...op.get(sum), ...op.demote, ...op.f32Store],
      ]),
    ]),
  };
}

/** The two variants of the input-gradient kernel (`inputGradients(perRow)`) take the same arguments. */
type InputGradientsKernel = (
  d: number,
  rows: number,
  inputs: number,
  outputs: number,
  start: number,
  output: number,
  w: number,
  list: number,
  end: number,
  width: number,
  dx: number,
) => void;

export interface Kernels {
  forwardRows(
    x: number,
    c: number,
    base: number,
    y: number,
    rows: number,
    inputs: number,
    outputs: number,
    active: number,
    width: number,
    start: number,
    output: number,
    w: number,
    nonzero: number,
    end: number,
  ): void;
  weightSums(
    x: number,
    c: number,
    d: number,
    rows: number,
    inputs: number,
    outputs: number,
    start: number,
    output: number,
    nonzero: number,
    end: number,
    width: number,
    sums: number,
  ): void;
  inputGradients: InputGradientsKernel;
  inputGradientsAt: InputGradientsKernel;
}

let compiled: object | null = null;

/** A memory of one 64 KiB page and the kernels over it, from a module compiled once per process. */
export function kernelMemory(): { memory: WasmMemory; kernels: Kernels } {
  compiled ??= new wasm.Module(
    encodeModule([forwardRows(), weightSums(), inputGradients(false), inputGradients(true)]),
  );
  const memory = new wasm.Memory({ initial: 1 });
  const kernels = new wasm.Instance(compiled, { env: { memory } }).exports as Kernels;
  return { memory, kernels };
}
