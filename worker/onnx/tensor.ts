import { InputError } from '../../common/errors.ts';
import { int64, onnx, type TensorProto } from './proto.ts';

const T = onnx.TensorProto.DataType;

/** Bytes per element of the data types whose zero pattern can be read, and the bits that make a value non-zero (floats ignore the sign, so −0 is zero). */
const ELEMENTS: Record<number, { bytes: 1 | 2 | 4 | 8; magnitude: number }> = {
  [T.FLOAT]: { bytes: 4, magnitude: 0x7fffffff },
  [T.DOUBLE]: { bytes: 8, magnitude: 0x7fffffff },
  [T.FLOAT16]: { bytes: 2, magnitude: 0x7fff },
  [T.BFLOAT16]: { bytes: 2, magnitude: 0x7fff },
  [T.INT8]: { bytes: 1, magnitude: 0xff },
  [T.UINT8]: { bytes: 1, magnitude: 0xff },
  [T.BOOL]: { bytes: 1, magnitude: 0xff },
  [T.INT16]: { bytes: 2, magnitude: 0xffff },
  [T.UINT16]: { bytes: 2, magnitude: 0xffff },
  [T.INT32]: { bytes: 4, magnitude: 0xffffffff },
  [T.UINT32]: { bytes: 4, magnitude: 0xffffffff },
  [T.INT64]: { bytes: 8, magnitude: 0xffffffff },
  [T.UINT64]: { bytes: 8, magnitude: 0xffffffff },
};

export const tensorDims = (tensor: TensorProto): number[] => (tensor.dims ?? []).map(int64);

export const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Reads a file named by a tensor's external data (relative to the model's folder). */
export type ExternalReader = (location: string) => Uint8Array;

/** The tensor's little-endian element bytes when it keeps them in raw (or external) data, else null. */
function rawBytes(tensor: TensorProto, readExternal: ExternalReader | undefined): Uint8Array | null {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location');
    if (!location) throw new InputError(`initializer '${tensor.name}': external data without a location`);
    if (!readExternal)
      throw new InputError(`initializer '${tensor.name}': external data needs the model's file path`);
    const file = readExternal(location);
    const offset = Number(entries.get('offset') ?? 0);
    const length = entries.has('length') ? Number(entries.get('length')) : file.length - offset;
    if (!(offset >= 0 && length >= 0 && offset + length <= file.length)) {
      throw new InputError(`initializer '${tensor.name}': external data range lies outside ${location}`);
    }
    return file.subarray(offset, offset + length);
  }
  return tensor.rawData && tensor.rawData.length > 0 ? tensor.rawData : null;
}

/**
 * Sets mask[k] to 1 where the 32-bit little-endian element k of `bytes` has a bit of `magnitude`
 * set (stride 1 or 2 elements of 4 bytes, `high` = the word holding the sign). Reads aligned words
 * of the underlying buffer, shifting when the bytes start mid-word: copying a large tensor only to
 * align it would cost more than the scan.
 */
function scanWords(bytes: Uint8Array, mask: Uint8Array, magnitude: number, wide: boolean): void {
  const count = mask.length;
  const shift = (bytes.byteOffset & 3) * 8;
  const base = bytes.byteOffset - (bytes.byteOffset & 3);
  const available = Math.floor((bytes.buffer.byteLength - base) / 4);
  const words = new Uint32Array(bytes.buffer, base, available);
  const word = (j: number) =>
    shift === 0
      ? words[j]
      : j + 1 < available
        ? ((words[j] >>> shift) | (words[j + 1] << (32 - shift))) >>> 0
        : (bytes[4 * j] | (bytes[4 * j + 1] << 8) | (bytes[4 * j + 2] << 16) | (bytes[4 * j + 3] << 24)) >>>
          0;
  if (!wide) {
    // Four mask bytes per (little-endian) store: the scan of a large tensor is bound by memory traffic.
    const back = 32 - shift;
    const quads = Math.max(0, Math.min(count, available - 1) >>> 2);
    const out = new Uint32Array(mask.buffer, mask.byteOffset, quads);
    if (shift === 0) {
      for (let q = 0; q < quads; q++) {
        const k = q << 2;
        // Pruned weights come in runs: four zeros (the mask is already 0) cost one test.
        if (((words[k] | words[k + 1] | words[k + 2] | words[k + 3]) & magnitude) === 0) continue;
        out[q] =
          ((words[k] & magnitude) !== 0 ? 1 : 0) |
          ((words[k + 1] & magnitude) !== 0 ? 0x100 : 0) |
          ((words[k + 2] & magnitude) !== 0 ? 0x10000 : 0) |
          ((words[k + 3] & magnitude) !== 0 ? 0x1000000 : 0);
      }
    } else {
      // Element k straddles words k and k + 1; each word is read once.
      let next = words[0];
      for (let q = 0; q < quads; q++) {
        const k = q << 2;
        const w0 = next;
        const w1 = words[k + 1];
        const w2 = words[k + 2];
        const w3 = words[k + 3];
        next = words[k + 4];
        if ((w0 | w1 | w2 | w3 | next) === 0) continue;
        out[q] =
          ((((w0 >>> shift) | (w1 << back)) & magnitude) !== 0 ? 1 : 0) |
          ((((w1 >>> shift) | (w2 << back)) & magnitude) !== 0 ? 0x100 : 0) |
          ((((w2 >>> shift) | (w3 << back)) & magnitude) !== 0 ? 0x10000 : 0) |
          ((((w3 >>> shift) | (next << back)) & magnitude) !== 0 ? 0x1000000 : 0);
      }
    }
    for (let k = quads << 2; k < count; k++) mask[k] = (word(k) & magnitude) !== 0 ? 1 : 0;
  } else {
    for (let k = 0; k < count; k++)
      mask[k] = word(2 * k) !== 0 || (word(2 * k + 1) & magnitude) !== 0 ? 1 : 0;
  }
}

/** 1 where the element is non-zero: a weight tensor's zero pattern, the pruning mask it carries. */
export function nonZeroPattern(tensor: TensorProto, readExternal?: ExternalReader): Uint8Array {
  const dataType = tensor.dataType ?? 0;
  const element = ELEMENTS[dataType];
  const name = `initializer '${tensor.name}'`;
  if (!element) throw new InputError(`${name}: unsupported data type ${T[dataType] ?? dataType}`);
  const count = elementCount(tensorDims(tensor));
  const mask = new Uint8Array(count);
  const raw = rawBytes(tensor, readExternal);
  if (raw) {
    if (raw.length !== count * element.bytes) {
      throw new InputError(`${name}: ${raw.length} data bytes for ${count} elements of ${T[dataType]}`);
    }
    const { magnitude } = element;
    if (element.bytes === 4 || element.bytes === 8) {
      scanWords(raw, mask, magnitude, element.bytes === 8);
    } else if (element.bytes === 2) {
      for (let k = 0; k < count; k++)
        mask[k] = ((raw[2 * k] | (raw[2 * k + 1] << 8)) & magnitude) !== 0 ? 1 : 0;
    } else {
      for (let k = 0; k < count; k++) mask[k] = raw[k] !== 0 ? 1 : 0;
    }
    return mask;
  }
  // Typed fields: float16/bfloat16 and small integers travel as int32 bit patterns.
  const values: ArrayLike<number | { toNumber(): number }> =
    dataType === T.FLOAT
      ? (tensor.floatData ?? [])
      : dataType === T.DOUBLE
        ? (tensor.doubleData ?? [])
        : dataType === T.INT64
          ? (tensor.int64Data ?? [])
          : dataType === T.UINT32 || dataType === T.UINT64
            ? (tensor.uint64Data ?? [])
            : (tensor.int32Data ?? []);
  if (values.length !== count) throw new InputError(`${name}: ${values.length} values for ${count} elements`);
  const halfMagnitude = element.bytes === 2 && (dataType === T.FLOAT16 || dataType === T.BFLOAT16);
  for (let k = 0; k < count; k++) {
    const value = int64(values[k]);
    mask[k] = (halfMagnitude ? value & 0x7fff : value) !== 0 ? 1 : 0;
  }
  return mask;
}

/** The values of a small integer tensor (a Reshape's shape, axes), as numbers. */
export function integerValues(tensor: TensorProto, what: string): number[] {
  const dataType = tensor.dataType ?? 0;
  const count = elementCount(tensorDims(tensor));
  const raw = rawBytes(tensor, undefined);
  if (dataType === T.INT64) {
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: count }, (_, k) => Number(view.getBigInt64(8 * k, true)));
    }
    return (tensor.int64Data ?? []).map(int64);
  }
  if (dataType === T.INT32) {
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      return Array.from({ length: count }, (_, k) => view.getInt32(4 * k, true));
    }
    return [...(tensor.int32Data ?? [])];
  }
  throw new InputError(`${what}: expected an int64 tensor, got ${T[dataType] ?? dataType}`);
}
