/**
 * Unit wirings of the shape operators, as CSR link lists for the connectivity net's `links` nodes.
 * Dimensions exclude the batch axis; units are numbered row-major.
 */
import { elementCount } from './tensor.ts';

export interface UnitLinks {
  start: Int32Array;
  from: Uint16Array | null;
  unit: Int32Array;
}

const stridesOf = (dims: readonly number[]) => {
  const strides = new Array<number>(dims.length).fill(1);
  for (let a = dims.length - 2; a >= 0; a--) strides[a] = strides[a + 1] * dims[a + 1];
  return strides;
};

/** Calls `visit(u, index)` for every unit of `dims` with its multi-index (reused array). */
function forEachIndex(dims: readonly number[], visit: (u: number, index: number[]) => void): void {
  const count = elementCount(dims);
  const index = new Array<number>(dims.length).fill(0);
  for (let u = 0; u < count; u++) {
    visit(u, index);
    for (let a = dims.length - 1; a >= 0; a--) {
      if (++index[a] < dims[a]) break;
      index[a] = 0;
    }
  }
}

/** Each output unit linked to the units `sources(u, index)` lists as [input, unit] pairs. */
function build(
  outDims: readonly number[],
  sources: (index: number[], add: (input: number, unit: number) => void) => void,
  multiInput: boolean,
): UnitLinks {
  const count = elementCount(outDims);
  const start = new Int32Array(count + 1);
  const inputs: number[] = [];
  const units: number[] = [];
  forEachIndex(outDims, (u, index) => {
    sources(index, (input, unit) => {
      inputs.push(input);
      units.push(unit);
    });
    start[u + 1] = units.length;
  });
  return { start, from: multiInput ? Uint16Array.from(inputs) : null, unit: Int32Array.from(units) };
}

/** Output axis a is input axis perm[a]. */
export function transposeLinks(inDims: readonly number[], perm: readonly number[]): UnitLinks {
  const inStrides = stridesOf(inDims);
  const outDims = perm.map((p) => inDims[p]);
  return build(
    outDims,
    (index, add) =>
      add(
        0,
        index.reduce((sum, i, a) => sum + i * inStrides[perm[a]], 0),
      ),
    false,
  );
}

/** Concatenation along `axis` of inputs that agree on every other axis. */
export function concatLinks(inDims: readonly (readonly number[])[], axis: number): UnitLinks {
  const outDims = [...inDims[0]];
  outDims[axis] = inDims.reduce((sum, dims) => sum + dims[axis], 0);
  const strides = inDims.map(stridesOf);
  return build(
    outDims,
    (index, add) => {
      let k = 0;
      let along = index[axis];
      while (along >= inDims[k][axis]) along -= inDims[k++][axis];
      add(
        k,
        index.reduce((sum, i, a) => sum + (a === axis ? along : i) * strides[k][a], 0),
      );
    },
    true,
  );
}

/** NumPy broadcasting of inputs to `outDims` (each input right-aligned, size-1 axes repeated). */
export function broadcastLinks(
  inDims: readonly (readonly number[])[],
  outDims: readonly number[],
): UnitLinks {
  const strides = inDims.map((dims) => {
    const own = stridesOf(dims);
    const offset = outDims.length - dims.length;
    return outDims.map((_, a) => (a < offset || dims[a - offset] === 1 ? 0 : own[a - offset]));
  });
  return build(
    outDims,
    (index, add) => {
      strides.forEach((s, k) => {
        add(
          k,
          index.reduce((sum, i, a) => sum + i * s[a], 0),
        );
      });
    },
    true,
  );
}

/**
 * Every output unit linked to all input units that agree with it outside the `mixed` axes: a
 * reduction over those axes (`keep` = the output keeps them as size 1) or, with `keep` = 'all',
 * softmax-like mixing that keeps the shape.
 */
export function mixLinks(
  inDims: readonly number[],
  mixed: readonly number[],
  keep: boolean | 'all',
): UnitLinks {
  const isMixed = inDims.map((_, a) => mixed.includes(a));
  const inStrides = stridesOf(inDims);
  const mixedDims = inDims.map((d, a) => (isMixed[a] ? d : 1));
  const outDims =
    keep === 'all'
      ? [...inDims]
      : keep
        ? inDims.map((d, a) => (isMixed[a] ? 1 : d))
        : inDims.filter((_, a) => !isMixed[a]);
  const kept = inDims.map((_, a) => a).filter((a) => !isMixed[a]);
  return build(
    outDims,
    (index, add) => {
      // Position of this output unit along the kept axes, in input coordinates.
      const keptIndex = keep === false ? kept.map((_, j) => index[j]) : kept.map((a) => index[a]);
      const base = kept.reduce((sum, a, j) => sum + keptIndex[j] * inStrides[a], 0);
      forEachIndex(mixedDims, (_, m) => {
        add(0, base + m.reduce((sum, i, a) => sum + (isMixed[a] ? i * inStrides[a] : 0), 0));
      });
    },
    false,
  );
}
