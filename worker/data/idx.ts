/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): magic 0x0000,
 * a type byte (0x08 = unsigned byte, the only one these datasets use), the number of dimensions,
 * big-endian uint32 sizes, then the data in C order.
 */
import { InputError } from '../../common/errors.ts';

const UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  readonly dims: number[];
  readonly data: Uint8Array;
}

/** Parses an unsigned-byte IDX file of `rank` dimensions; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, rank: number, file: string): IdxArray {
  const fail = (problem: string): never => {
    throw new InputError(`${file}: ${problem}`);
  };
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) fail('not an IDX file (bad magic number)');
  if (bytes[2] !== UNSIGNED_BYTE)
    fail(`IDX element type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  if (bytes[3] !== rank) fail(`IDX file has ${bytes[3]} dimensions, expected ${rank}`);
  const start = 4 + 4 * rank;
  if (bytes.length < start) fail('truncated IDX header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, axis) => view.getUint32(4 + 4 * axis, false));
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (bytes.length - start !== size) {
    fail(`IDX data is ${bytes.length - start} bytes but dimensions ${dims.join('×')} need ${size}`);
  }
  return { dims, data: bytes.subarray(start) };
}
