/**
 * One NumPy `.npy` array: format versions 1.0, 2.0 and 3.0, either byte order, C or Fortran order.
 * Reading returns native-endian C-order data; writing produces version 1.0 (2.0 only when the
 * header outgrows 64 KiB), little-endian, header padded to 64 bytes, exactly as NumPy writes it.
 * See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
 */
import { endianness } from 'node:os';
import { z } from 'zod';
import { InputError } from '../../common/errors.ts';
import { parseInput } from '../../common/validation.ts';
import {
  DTYPES,
  type DType,
  descrOf,
  dtypeOfCode,
  elementCount,
  floatToHalf,
  type NdArray,
} from './dtype.ts';
import { PyLiteralError, parsePyLiteral } from './pyliteral.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HEADER_ALIGNMENT = 64;
const HOST_LITTLE_ENDIAN = endianness() === 'LE';

const headerSchema = z.object({
  descr: z.string(),
  fortran_order: z.boolean(),
  shape: z.array(z.number().int().nonnegative()),
});

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((byte, i) => bytes[i] === byte);
}

/** Parses one .npy file; problems throw InputError with a one-line description (no file name). */
export function parseNpy(bytes: Uint8Array): NdArray {
  if (!isNpy(bytes)) throw new InputError('not a .npy array (bad magic; expected \\x93NUMPY)');
  const { header, dataOffset } = readHeaderText(bytes);
  const { descr, fortran_order: fortranOrder, shape } = parseHeader(header);
  const { dtype, littleEndian } = parseDescr(descr);
  const count = elementCount(shape);
  const { size } = DTYPES[dtype];
  const expected = count * size;
  const actual = bytes.length - dataOffset;
  if (!Number.isSafeInteger(expected) || actual !== expected) {
    throw new InputError(
      `data is ${actual} bytes but shape (${shape.join(', ')}) of ${descr} needs ${expected} bytes`,
    );
  }
  let elements = bytes.slice(dataOffset);
  if (fortranOrder && shape.length > 1) elements = fortranToC(elements, shape, size);
  if (littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(elements, size);
  const data = DTYPES[dtype].fromBytes(elements.buffer, count);
  if (dtype === 'bool') normalizeBools(data as Uint8Array);
  return { dtype, shape, data } as NdArray;
}

/** Real headers are a few hundred bytes; NumPy itself refuses ones above 10,000 by default. */
const MAX_HEADER = 1 << 20;

/** Where an .npy file's data starts and how long the whole file is, by its header. */
export interface NpyExtent {
  dataOffset: number;
  /** Header and data: the file's whole length. */
  byteLength: number;
  /** `shape (2, 3) of <f4`, for messages. */
  described: string;
}

/**
 * The extent an .npy file declares, from its first bytes: null until `prefix` holds the whole header.
 * Lets a reader stop inflating a member at the length its header promises.
 */
export function npyExtent(prefix: Uint8Array): NpyExtent | null {
  if (prefix.length < 12) return null;
  if (!isNpy(prefix)) throw new InputError('not a .npy array (bad magic; expected \\x93NUMPY)');
  const major = prefix[6]!;
  if (major < 1 || major > 3) throw new InputError(`unsupported .npy format version ${major}.${prefix[7]}`);
  const lengthSize = major === 1 ? 2 : 4;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (length > MAX_HEADER) throw new InputError(`.npy header of ${length} bytes (more than ${MAX_HEADER})`);
  if (prefix.length < 8 + lengthSize + length) return null;
  const { header, dataOffset } = readHeaderText(prefix);
  const { descr, shape } = parseHeader(header);
  const { dtype } = parseDescr(descr);
  const dataBytes = elementCount(shape) * DTYPES[dtype].size;
  if (!Number.isSafeInteger(dataBytes)) throw new InputError(`shape (${shape.join(', ')}) is too large`);
  return {
    dataOffset,
    byteLength: dataOffset + dataBytes,
    described: `shape (${shape.join(', ')}) of ${descr}`,
  };
}

/** Serializes an array as a version 1.0 .npy file (little-endian, C order). */
export function serializeNpy(array: NdArray): Uint8Array {
  const count = elementCount(array.shape);
  if (array.data.length !== count) {
    throw new Error(`array of shape (${array.shape.join(', ')}) holds ${array.data.length} elements`);
  }
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${descrOf(array.dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
  let header = paddedHeader(dict, 10);
  const version = header.length > 0xffff ? 2 : 1;
  const prefix = version === 1 ? 10 : 12;
  if (version === 2) header = paddedHeader(dict, prefix);
  const elements = elementBytes(array);
  const out = new Uint8Array(prefix + header.length + elements.length);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(elements, prefix + header.length);
  return out;
}

/** The header dict, spaces and a newline, so that data starts at a multiple of 64 bytes. */
function paddedHeader(dict: string, prefix: number): string {
  const padding = (HEADER_ALIGNMENT - ((prefix + dict.length + 1) % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT;
  return `${dict}${' '.repeat(padding)}\n`;
}

function readHeaderText(bytes: Uint8Array): { header: string; dataOffset: number } {
  const major = bytes[6];
  if (major === undefined || bytes.length < 10) throw new InputError('truncated .npy header');
  if (major < 1 || major > 3) throw new InputError(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthSize) throw new InputError('truncated .npy header');
  const length = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthSize;
  if (bytes.length < start + length) {
    throw new InputError(
      `truncated .npy header (${length} bytes announced, ${bytes.length - start} present)`,
    );
  }
  // Versions 1 and 2 store latin-1 headers; version 3 stores UTF-8.
  const encoding = major === 3 ? 'utf-8' : 'latin1';
  const header = new TextDecoder(encoding).decode(bytes.subarray(start, start + length));
  return { header, dataOffset: start + length };
}

function parseHeader(text: string): z.infer<typeof headerSchema> {
  let literal: ReturnType<typeof parsePyLiteral>;
  try {
    literal = parsePyLiteral(text);
  } catch (error) {
    if (error instanceof PyLiteralError) throw new InputError(`malformed .npy header: ${error.message}`);
    throw error;
  }
  if (literal !== null && typeof literal === 'object' && !Array.isArray(literal)) {
    if (Array.isArray(literal.descr)) {
      throw new InputError('unsupported dtype: structured arrays (record dtypes) cannot be read');
    }
  }
  return parseInput(headerSchema, literal, 'malformed .npy header');
}

function parseDescr(descr: string): { dtype: DType; littleEndian: boolean } {
  const match = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = match ? dtypeOfCode(`${match[2]}${match[3]}`) : undefined;
  if (!match || !dtype) {
    const hint = descr.includes('O') ? ' (object arrays cannot be read without pickle)' : '';
    throw new InputError(
      `unsupported dtype '${descr}'${hint}; supported: bool, (u)int8/16/32/64, float16/32/64`,
    );
  }
  const order = match[1];
  return { dtype, littleEndian: order === '<' || (order !== '>' && HOST_LITTLE_ENDIAN) };
}

/** Reorders items stored first-index-fastest into last-index-fastest order. */
function fortranToC(bytes: Uint8Array, shape: number[], size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  const count = elementCount(shape);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let axis = 0, stride = 1; axis < rank; axis++) {
    strides[axis] = stride;
    stride *= shape[axis];
  }
  const index = new Array<number>(rank).fill(0);
  let source = 0;
  for (let target = 0; target < count; target++) {
    for (let byte = 0; byte < size; byte++) out[target * size + byte] = bytes[source * size + byte];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      source += strides[axis];
      if (index[axis] < shape[axis]) break;
      index[axis] = 0;
      source -= strides[axis] * shape[axis];
    }
  }
  return out;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let offset = 0; offset < bytes.length; offset += size) {
    for (let low = offset, high = offset + size - 1; low < high; low++, high--) {
      const byte = bytes[low];
      bytes[low] = bytes[high];
      bytes[high] = byte;
    }
  }
}

function normalizeBools(data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) data[i] = data[i] === 0 ? 0 : 1;
}

function elementBytes(array: NdArray): Uint8Array {
  let bytes: Uint8Array;
  if (array.dtype === 'float16') {
    const bits = new Uint16Array(array.data.length);
    for (let i = 0; i < bits.length; i++) bits[i] = floatToHalf(array.data[i]);
    bytes = new Uint8Array(bits.buffer);
  } else if (array.dtype === 'bool') {
    bytes = array.data.map((value) => (value === 0 ? 0 : 1));
  } else {
    bytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength).slice();
  }
  if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, DTYPES[array.dtype].size);
  return bytes;
}
