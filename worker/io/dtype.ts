/**
 * The NumPy element types esweep reads and writes, and the in-memory arrays that hold them.
 * float16 has no typed array in Node 20, so its elements live widened in a Float32Array and are
 * converted (round to nearest even) only at the file boundary.
 */

interface DataOf {
  bool: Uint8Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float16: Float32Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type DType = keyof DataOf;
export type TypedData = DataOf[DType];

/** An n-dimensional array in C (row-major) order; `data.length` is the product of `shape`. */
export type NdArray = { [D in DType]: { dtype: D; shape: number[]; data: DataOf[D] } }[DType];

interface DTypeInfo {
  /** NumPy kind character and item size, as in the `descr` string `<f4`. */
  kind: 'b' | 'u' | 'i' | 'f';
  size: number;
  /** Builds the typed array over little-/native-endian element bytes (an aligned, owned buffer). */
  fromBytes(buffer: ArrayBuffer, count: number): TypedData;
}

export const DTYPES: Record<DType, DTypeInfo> = {
  bool: { kind: 'b', size: 1, fromBytes: (b, n) => new Uint8Array(b, 0, n) },
  uint8: { kind: 'u', size: 1, fromBytes: (b, n) => new Uint8Array(b, 0, n) },
  int8: { kind: 'i', size: 1, fromBytes: (b, n) => new Int8Array(b, 0, n) },
  int16: { kind: 'i', size: 2, fromBytes: (b, n) => new Int16Array(b, 0, n) },
  uint16: { kind: 'u', size: 2, fromBytes: (b, n) => new Uint16Array(b, 0, n) },
  int32: { kind: 'i', size: 4, fromBytes: (b, n) => new Int32Array(b, 0, n) },
  uint32: { kind: 'u', size: 4, fromBytes: (b, n) => new Uint32Array(b, 0, n) },
  int64: { kind: 'i', size: 8, fromBytes: (b, n) => new BigInt64Array(b, 0, n) },
  uint64: { kind: 'u', size: 8, fromBytes: (b, n) => new BigUint64Array(b, 0, n) },
  float16: { kind: 'f', size: 2, fromBytes: (b, n) => halfBitsToFloats(new Uint16Array(b, 0, n)) },
  float32: { kind: 'f', size: 4, fromBytes: (b, n) => new Float32Array(b, 0, n) },
  float64: { kind: 'f', size: 8, fromBytes: (b, n) => new Float64Array(b, 0, n) },
};

const BY_KIND_AND_SIZE = new Map<string, DType>(
  (Object.keys(DTYPES) as DType[]).map((dtype) => [`${DTYPES[dtype].kind}${DTYPES[dtype].size}`, dtype]),
);

/** The dtype of a NumPy type code such as `f4` or `b1`, or undefined when esweep does not support it. */
export function dtypeOfCode(code: string): DType | undefined {
  return BY_KIND_AND_SIZE.get(code);
}

/** The `descr` NumPy writes for this dtype on a little-endian machine. */
export function descrOf(dtype: DType): string {
  const { kind, size } = DTYPES[dtype];
  return `${size === 1 ? '|' : '<'}${kind}${size}`;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** IEEE binary16 bits of a number, rounded to nearest even (as NumPy's astype(float16)). */
export function floatToHalf(value: number): number {
  scratchFloat[0] = value;
  const bits = scratchBits[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  if (exponent > 142) return sign | 0x7c00;
  if (exponent < 102) return sign;
  if (exponent < 113) {
    // Subnormal half: the value in units of 2^-24 is the 24-bit significand shifted right.
    const significand = mantissa | 0x800000;
    const shift = 126 - exponent;
    return sign | roundShift(significand, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | roundShift(((exponent - 112) << 23) | mantissa, 13);
}

function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return rest > half || (rest === half && kept & 1) ? kept + 1 : kept;
}

function halfBitsToFloats(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]);
  return out;
}
