import { InputError } from '../../common/errors.ts';
import { PackedMask } from '../sparsity/bits.ts';
import { int64, onnx, type TensorProto } from './proto.ts';
import { scanFloat32InPlace } from './wasm-scan.ts';

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

// The zero-pattern scan reads a tensor's bytes as 32-bit words (little-endian, as ONNX stores them and
// as the platforms Node runs on are) with one kernel per element size, each a loop with no branch on
// the data type, so that V8 compiles each once for good (one function for all sizes and alignments
// could be compiled, thrown away and compiled again as tensors of other alignments came by). Data that
// does not start on a 4-byte boundary (most of a protobuf's) is copied through one small aligned
// buffer, a block at a time, rather than read with shifts or copied whole. The mask is packed, one bit
// per element, starts zeroed, and the kernels write only the words of non-zero elements.
// float32 bytes that live in a WebAssembly memory made by readModelBytes (wasm-scan.ts) are read in
// place by a SIMD kernel instead, whole groups of 32, the rest here.

/** Words per block copied into the aligned buffer (256 KiB: stays in cache while it is scanned). */
const BLOCK_WORDS = 65_536;
const block = new Int32Array(BLOCK_WORDS);
const blockBytes = new Uint8Array(block.buffer);

/** The magnitude bits of a float32: everything but the sign. */
const FLOAT_MAGNITUDE = 0x7fffffff;

/**
 * Four elements from words `k`..`k + 3`, packed: bit j is set where word k + j has a bit of
 * `magnitude`.
 */
function quadBits(words: Int32Array, k: number, magnitude: number): number {
  return (
    ((words[k] & magnitude) !== 0 ? 1 : 0) |
    ((words[k + 1] & magnitude) !== 0 ? 2 : 0) |
    ((words[k + 2] & magnitude) !== 0 ? 4 : 0) |
    ((words[k + 3] & magnitude) !== 0 ? 8 : 0)
  );
}

/**
 * Scans words `from`..`count`, one element each; element `first + k` of the mask (bit) is set where
 * word k has a bit of `magnitude` (`first + from` a multiple of 4). Pruned weights come in runs: four
 * zero words cost one test.
 */
function scan32(
  words: Int32Array,
  from: number,
  count: number,
  bits: Uint32Array,
  first: number,
  magnitude: number,
): void {
  const whole = from + ((count - from) & ~3);
  for (let k = from; k < whole; k += 4) {
    if (((words[k] | words[k + 1] | words[k + 2] | words[k + 3]) & magnitude) === 0) continue;
    const e = first + k;
    bits[e >>> 5] |= quadBits(words, k, magnitude) << (e & 31);
  }
  for (let k = whole; k < count; k++) {
    const e = first + k;
    if ((words[k] & magnitude) !== 0) bits[e >>> 5] |= 1 << (e & 31);
  }
}

/**
 * float32 elements: eight words OR-ed together with no magnitude bit are eight ±0s, so a zero run
 * costs one test per eight weights; anything else is read word by word. `first` is a multiple of 8,
 * so the eight bits land in one mask word.
 */
function scanFloat32(words: Int32Array, count: number, bits: Uint32Array, first: number): void {
  const whole = count & ~7;
  for (let k = 0; k < whole; k += 8) {
    const any =
      words[k] |
      words[k + 1] |
      words[k + 2] |
      words[k + 3] |
      words[k + 4] |
      words[k + 5] |
      words[k + 6] |
      words[k + 7];
    if ((any & FLOAT_MAGNITUDE) === 0) continue;
    const eight = quadBits(words, k, FLOAT_MAGNITUDE) | (quadBits(words, k + 4, FLOAT_MAGNITUDE) << 4);
    const e = first + k;
    bits[e >>> 5] |= eight << (e & 31);
  }
  scan32(words, whole, count, bits, first, FLOAT_MAGNITUDE);
}

/** Two 16-bit elements per word (`magnitude` applies to each half). */
function scan16(words: Int32Array, count: number, bits: Uint32Array, first: number, magnitude: number): void {
  const both = magnitude | (magnitude << 16);
  for (let k = 0; k < count; k++) {
    const w = words[k];
    if ((w & both) === 0) continue;
    const e = first + 2 * k;
    if ((w & magnitude) !== 0) bits[e >>> 5] |= 1 << (e & 31);
    if (((w >>> 16) & magnitude) !== 0) bits[(e + 1) >>> 5] |= 1 << ((e + 1) & 31);
  }
}

/** Four 8-bit elements per word (any bit makes an element non-zero); `first` is a multiple of 4. */
function scan8(words: Int32Array, count: number, bits: Uint32Array, first: number): void {
  for (let k = 0; k < count; k++) {
    const w = words[k];
    if (w === 0) continue;
    const quad =
      ((w & 0xff) !== 0 ? 1 : 0) |
      ((w & 0xff00) !== 0 ? 2 : 0) |
      ((w & 0xff0000) !== 0 ? 4 : 0) |
      ((w & 0xff000000) !== 0 ? 8 : 0);
    const e = first + 4 * k;
    bits[e >>> 5] |= quad << (e & 31);
  }
}

/** One 64-bit element per two words: any bit of the low word, or of `magnitude` in the high one. */
function scan64(words: Int32Array, count: number, bits: Uint32Array, first: number, magnitude: number): void {
  for (let k = 0; k + 1 < count; k += 2) {
    if ((words[k] | (words[k + 1] & magnitude)) === 0) continue;
    const e = first + (k >> 1);
    bits[e >>> 5] |= 1 << (e & 31);
  }
}

/** Sets the mask's bits from `bytes` (elements of `size` bytes, `magnitude` as in ELEMENTS). */
function scanBytes(bytes: Uint8Array, size: 1 | 2 | 4 | 8, magnitude: number, bits: Uint32Array): void {
  const m = magnitude | 0;
  const floats = size === 4 && magnitude === FLOAT_MAGNITUDE;
  if (floats) {
    // Model bytes read by readModelBytes: the SIMD kernel reads them where they lie.
    const done = scanFloat32InPlace(bytes, bits);
    if (done > 0) {
      if (done * 4 < bytes.length)
        scanBytes(bytes.subarray(done * 4), 4, magnitude, bits.subarray(done >>> 5));
      return;
    }
  }
  /** Elements per word, times 2 (a 64-bit element is half a word per word). */
  const perWord2 = 8 / size;
  const scan = (words: Int32Array, count: number, firstWord: number) => {
    const first = (firstWord * perWord2) / 2;
    if (floats) scanFloat32(words, count, bits, first);
    else if (size === 4) scan32(words, 0, count, bits, first, m);
    else if (size === 2) scan16(words, count, bits, first, m);
    else if (size === 1) scan8(words, count, bits, first);
    else scan64(words, count, bits, first, m);
  };
  const wholeWords = bytes.length >> 2;
  let word = 0;
  if ((bytes.byteOffset & 3) === 0) {
    scan(new Int32Array(bytes.buffer, bytes.byteOffset, wholeWords), wholeWords, 0);
    word = wholeWords;
  }
  // Unaligned data, and the last bytes of a tensor whose size is not a whole number of words. A plain
  // view: a Buffer's subarray (protobufjs decodes into Buffers) costs far more to make.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  while (word * 4 < bytes.length) {
    const start = word * 4;
    const length = Math.min(BLOCK_WORDS * 4, bytes.length - start);
    blockBytes.set(plain.subarray(start, start + length));
    const count = Math.ceil(length / 4);
    blockBytes.fill(0, length, count * 4);
    scan(block, count, word);
    word += count;
  }
}

/**
 * Set where the element is non-zero: a weight tensor's zero pattern, the pruning mask it carries,
 * packed one bit per element. Written into `into` when given (all zeros), else a new mask.
 */
export function nonZeroPattern(
  tensor: TensorProto,
  readExternal?: ExternalReader,
  into?: PackedMask,
): PackedMask {
  const dataType = tensor.dataType ?? 0;
  const element = ELEMENTS[dataType];
  const name = `initializer '${tensor.name}'`;
  if (!element) throw new InputError(`${name}: unsupported data type ${T[dataType] ?? dataType}`);
  const count = elementCount(tensorDims(tensor));
  const mask = into ?? new PackedMask(count);
  if (mask.length !== count) throw new Error(`${name}: a mask of ${mask.length} for ${count} elements`);
  const raw = rawBytes(tensor, readExternal);
  if (raw) {
    if (raw.length !== count * element.bytes) {
      throw new InputError(`${name}: ${raw.length} data bytes for ${count} elements of ${T[dataType]}`);
    }
    scanBytes(raw, element.bytes, element.magnitude, mask.words);
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
    if ((halfMagnitude ? value & 0x7fff : value) !== 0) mask.set(k);
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
