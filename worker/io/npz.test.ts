import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createDeflateRaw } from 'node:zlib';
import { unzipSync, zipSync } from 'fflate';
import { InputError } from '../../common/errors.ts';
import type { DType, NdArray } from './dtype.ts';
import { readNpz, writeNpz } from './npz.ts';

/** One array per dtype with awkward values (extremes, NaN, -0, non-0/1 bools are normalized). */
function sampleArrays(shape: number[]): Record<DType, NdArray> {
  const n = shape.reduce((a, b) => a * b, 1);
  const pick = <T>(values: T[]) => Array.from({ length: n }, (_, i) => values[i % values.length]);
  return {
    bool: { dtype: 'bool', shape, data: Uint8Array.from(pick([0, 1, 1])) },
    uint8: { dtype: 'uint8', shape, data: Uint8Array.from(pick([0, 255, 7])) },
    int8: { dtype: 'int8', shape, data: Int8Array.from(pick([-128, 127, -1])) },
    int16: { dtype: 'int16', shape, data: Int16Array.from(pick([-32768, 32767, 300])) },
    uint16: { dtype: 'uint16', shape, data: Uint16Array.from(pick([65535, 0, 258])) },
    int32: { dtype: 'int32', shape, data: Int32Array.from(pick([-(2 ** 31), 2 ** 31 - 1, 65536])) },
    uint32: { dtype: 'uint32', shape, data: Uint32Array.from(pick([2 ** 32 - 1, 0, 16909060])) },
    int64: { dtype: 'int64', shape, data: BigInt64Array.from(pick([-(2n ** 63n), 2n ** 63n - 1n, 5n])) },
    uint64: { dtype: 'uint64', shape, data: BigUint64Array.from(pick([2n ** 64n - 1n, 0n, 1n << 40n])) },
    float16: { dtype: 'float16', shape, data: Float32Array.from(pick([0.5, -65504, 2 ** -24, -0])) },
    float32: { dtype: 'float32', shape, data: Float32Array.from(pick([Math.fround(0.1), Number.NaN, -0])) },
    float64: { dtype: 'float64', shape, data: Float64Array.from(pick([0.1, Infinity, -1e300, -0])) },
  };
}

/** Exact comparison of arrays, treating NaN as equal to NaN and -0 as distinct from 0. */
function assertArrayEqual(actual: NdArray | undefined, expected: NdArray, label: string): void {
  assert.ok(actual, `${label}: missing`);
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  assert.equal(actual.data.constructor, expected.data.constructor, `${label}: typed array`);
  assert.equal(actual.data.length, expected.data.length, `${label}: length`);
  for (let i = 0; i < expected.data.length; i++) {
    assert.ok(
      Object.is(actual.data[i], expected.data[i]),
      `${label}[${i}]: ${actual.data[i]} vs ${expected.data[i]}`,
    );
  }
}

/** The bytes of a .npy file built by hand, the way NumPy's format.write_array lays them out. */
function handNpy(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  const padding = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  const header = `${dict}${' '.repeat(padding)}\n`;
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), prefix);
  out.set(data, prefix + header.length);
  return out;
}

/** Element bytes written one value at a time through a DataView setter (any byte order). */
function encode<T>(
  values: T[],
  size: number,
  set: (view: DataView, offset: number, value: T) => void,
): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  for (const [i, value] of values.entries()) set(view, i * size, value);
  return out;
}

function zip(members: Record<string, Uint8Array>, level: 0 | 6 = 0): Uint8Array {
  return zipSync(
    Object.fromEntries(Object.entries(members).map(([name, data]) => [name, [data, { level }]])),
  );
}

function assertInputError(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected InputError, got ${String(error)}`);
    assert.match(error.message, message);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
}

describe('npz round trips', () => {
  const shapes = [[2, 3], [], [0], [0, 3], [5], [2, 1, 3]];
  for (const compress of [false, true]) {
    for (const shape of shapes) {
      test(`every dtype, shape (${shape.join(', ')}), ${compress ? 'deflated' : 'stored'}`, () => {
        const arrays = sampleArrays(shape);
        const read = readNpz(writeNpz(arrays, { compress }));
        assert.deepEqual([...read.keys()].sort(), Object.keys(arrays).sort());
        for (const [key, array] of Object.entries(arrays)) assertArrayEqual(read.get(key), array, key);
      });
    }
  }

  test('accepts a Map, writes name.npy members and identical bytes for identical arrays', () => {
    const arrays = new Map<string, NdArray>([['fc1', sampleArrays([3]).float32]]);
    const first = writeNpz(arrays);
    assert.deepEqual(writeNpz(arrays), first);
    assert.ok(Buffer.from(first).includes(Buffer.from('fc1.npy')));
  });

  test('writes v1.0 headers padded to 64 bytes and ending in a newline', () => {
    for (const array of Object.values(sampleArrays([2, 3]))) {
      const member = unzipSync(writeNpz({ x: array }))['x.npy'];
      assert.equal(member[6], 1);
      const headerLength = member[8] | (member[9] << 8);
      assert.equal((10 + headerLength) % 64, 0);
      assert.equal(member[10 + headerLength - 1], 0x0a);
    }
  });

  test('reads float16 written values rounded like NumPy', () => {
    const array: NdArray = { dtype: 'float16', shape: [2], data: Float32Array.from([0.1, 70000]) };
    const read = readNpz(writeNpz({ h: array })).get('h');
    assert.ok(read?.dtype === 'float16');
    assert.deepEqual([...read.data], [Math.fround(0.0999755859375), Number.POSITIVE_INFINITY]);
  });
});

describe('npz files laid out as NumPy writes them', () => {
  // 2×3 float32 0..5, C order, little-endian.
  const f32 = encode([0, 1, 2, 3, 4, 5], 4, (v, o, x) => v.setFloat32(o, x, true));
  const c23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

  test('stored and deflated members named x.npy', () => {
    for (const level of [0, 6] as const) {
      const read = readNpz(zip({ 'x.npy': handNpy(c23, f32) }, level));
      assertArrayEqual(
        read.get('x'),
        { dtype: 'float32', shape: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) },
        'x',
      );
    }
  });

  test('a Fortran-order array is transposed to C order', () => {
    // Column-major storage of [[0,1,2],[3,4,5]] is 0,3,1,4,2,5.
    const data = encode([0, 3, 1, 4, 2, 5], 4, (v, o, x) => v.setFloat32(o, x, true));
    const dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
    const read = readNpz(zip({ 'x.npy': handNpy(dict, data) }));
    assert.deepEqual([...(read.get('x')?.data ?? [])], [0, 1, 2, 3, 4, 5]);
  });

  test('a 3-d Fortran-order array is transposed to C order', () => {
    const shape = [2, 3, 4];
    // Element (i,j,k) has value 100i+10j+k; Fortran order puts i fastest.
    const values: number[] = [];
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) values.push(100 * i + 10 * j + k);
    const data = encode(values, 2, (v, o, x) => v.setInt16(o, x, true));
    const dict = "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }";
    const read = readNpz(zip({ 'm.npy': handNpy(dict, data) })).get('m');
    const expected: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    assert.deepEqual(read?.shape, shape);
    assert.deepEqual([...(read?.data ?? [])], expected);
  });

  test('big-endian members are converted to native values', () => {
    const cases: [string, number, (v: DataView, offset: number, x: number) => void, NdArray][] = [
      [
        '>f4',
        4,
        (v, o, x) => v.setFloat32(o, x, false),
        { dtype: 'float32', shape: [3], data: Float32Array.of(1.5, -2, 3) },
      ],
      [
        '>f8',
        8,
        (v, o, x) => v.setFloat64(o, x, false),
        { dtype: 'float64', shape: [3], data: Float64Array.of(1.5, -2, 3) },
      ],
      [
        '>i2',
        2,
        (v, o, x) => v.setInt16(o, x, false),
        { dtype: 'int16', shape: [3], data: Int16Array.of(258, -2, 3) },
      ],
      [
        '>u4',
        4,
        (v, o, x) => v.setUint32(o, x, false),
        { dtype: 'uint32', shape: [3], data: Uint32Array.of(16909060, 2, 3) },
      ],
      [
        '>f2',
        2,
        (v, o, x) => v.setUint16(o, x, false),
        { dtype: 'float16', shape: [3], data: Float32Array.of(1, -2, 0.5) },
      ],
    ];
    for (const [descr, size, write, expected] of cases) {
      const raw = descr === '>f2' ? [0x3c00, 0xc000, 0x3800] : [...expected.data].map(Number);
      const data = encode(raw, size, write);
      const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (3,), }`;
      assertArrayEqual(readNpz(zip({ 'b.npy': handNpy(dict, data) })).get('b'), expected, descr);
    }
    const i8 = encode([-5n], 8, (v, o, x) => v.setBigInt64(o, x, false));
    const read = readNpz(
      zip({ 'b.npy': handNpy("{'descr': '>i8', 'fortran_order': False, 'shape': (), }", i8) }),
    );
    assertArrayEqual(read.get('b'), { dtype: 'int64', shape: [], data: BigInt64Array.of(-5n) }, '>i8');
  });

  test('format versions 2.0 and 3.0, a 0-d array, a member without .npy and old 3L integers', () => {
    const scalar = encode([2.5], 8, (v, o, x) => v.setFloat64(o, x, true));
    const read = readNpz(
      zip({
        'v2.npy': handNpy(c23, f32, 2),
        'v3.npy': handNpy(c23, f32, 3),
        scalar: handNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", scalar),
        'py2.npy': handNpy(
          "{'descr': '|u1', 'fortran_order': False, 'shape': (3L,), }",
          Uint8Array.of(1, 2, 3),
        ),
        'dir/': new Uint8Array(0),
      }),
    );
    assert.deepEqual([...read.keys()].sort(), ['py2', 'scalar', 'v2', 'v3']);
    assert.deepEqual([...(read.get('v3')?.data ?? [])], [0, 1, 2, 3, 4, 5]);
    assertArrayEqual(
      read.get('scalar'),
      { dtype: 'float64', shape: [], data: Float64Array.of(2.5) },
      'scalar',
    );
    assert.deepEqual(read.get('py2')?.shape, [3]);
  });

  test('bool bytes other than 0/1 read as true', () => {
    const read = readNpz(
      zip({
        'm.npy': handNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.of(0, 1, 7)),
      }),
    );
    assert.deepEqual([...(read.get('m')?.data ?? [])], [0, 1, 1]);
  });
});

describe('malformed npz input', () => {
  const good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const eight = new Uint8Array(8);
  const member =
    (npy: Uint8Array, name = 'w.npy') =>
    () =>
      readNpz(zip({ [name]: npy }));

  test('not a zip', () =>
    assertInputError(() => readNpz(Buffer.from('hello, world')), /^not an \.npz archive \(not a zip file/));
  test('a bare .npy file', () =>
    assertInputError(() => readNpz(handNpy(good, eight)), /^a single \.npy array, not an \.npz archive/));
  test('truncated zip', () => {
    const bytes = writeNpz({ w: { dtype: 'float32', shape: [2], data: new Float32Array(2) } });
    assertInputError(
      () => readNpz(bytes.subarray(0, bytes.length - 30)),
      /^corrupt or truncated \.npz archive/,
    );
  });
  test('corrupt deflate stream names the member', () => {
    const bytes = zip({ 'w.npy': handNpy(good, eight) }, 6);
    const damaged = bytes.slice();
    damaged.fill(0xff, 40, 60); // inside the compressed data of the only member
    assertInputError(() => readNpz(damaged), /^member 'w\.npy': corrupt or truncated/);
  });
  test('bad npy magic', () =>
    assertInputError(
      member(Buffer.from('NUMPY not really')),
      /^member 'w\.npy': not a \.npy array \(bad magic/,
    ));
  test('truncated npy header', () =>
    assertInputError(
      member(handNpy(good, eight).subarray(0, 40)),
      /^member 'w\.npy': truncated \.npy header/,
    ));
  test('unsupported format version', () => {
    const npy = handNpy(good, eight);
    npy[6] = 4;
    assertInputError(member(npy), /^member 'w\.npy': unsupported \.npy format version 4\.0/);
  });
  test('header that is not a Python literal', () =>
    assertInputError(
      member(handNpy("{'descr': '<f4', 'shape': (2,}", eight)),
      /^member 'w\.npy': malformed \.npy header: unexpected '\}' at character 29$/,
    ));
  test('header missing a key', () =>
    assertInputError(
      member(handNpy("{'descr': '<f4', 'fortran_order': False, }", eight)),
      /^member 'w\.npy': malformed \.npy header: shape: is required$/,
    ));
  test('negative or fractional shape', () =>
    assertInputError(
      member(handNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", eight)),
      /^member 'w\.npy': malformed \.npy header: shape\[0\]: must be ≥ 0, got -2$/,
    ));
  test('object array', () =>
    assertInputError(
      member(handNpy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", eight)),
      /^member 'w\.npy': unsupported dtype '\|O' \(object arrays/,
    ));
  test('other unsupported dtypes', () => {
    for (const descr of ['<c8', '<U4', '<f16', 'float32']) {
      assertInputError(
        member(handNpy(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, eight)),
        /unsupported dtype/,
      );
    }
  });
  test('structured dtype', () =>
    assertInputError(
      member(handNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", eight)),
      /^member 'w\.npy': unsupported dtype: structured arrays/,
    ));
  test('data shorter than the shape', () =>
    assertInputError(
      member(handNpy(good, new Uint8Array(7))),
      /^member 'w\.npy': data is 7 bytes but shape \(2\) of <f4 needs 8 bytes$/,
    ));
  test('data longer than the shape', () =>
    assertInputError(
      member(handNpy(good, new Uint8Array(12))),
      /data is 12 bytes but shape \(2\) of <f4 needs 8 bytes/,
    ));
  test('two members with the same key', () =>
    assertInputError(
      () => readNpz(zip({ w: handNpy(good, eight), 'w.npy': handNpy(good, eight) })),
      /duplicate array name 'w'/,
    ));
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

// NumPy itself is the reference when this machine has it (fixtures are generated, never stored).
if (hasNumpy) {
  describe('interoperability with NumPy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-npz-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const python = (script: string) => {
      const result = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout;
    };

    test('reads np.savez and np.savez_compressed output of every dtype and layout', () => {
      python(`
import numpy as np
a = np.arange(24).reshape(2, 3, 4)
arrays = {
  'b1': (a % 3 == 0), 'u1': a.astype('u1'), 'i1': (-a).astype('i1'), 'i2': (a * -1000).astype('<i2'),
  'u2': (a * 2000).astype('<u2'), 'i4': (a * -10**7).astype('<i4'), 'u4': (a * 10**8).astype('<u4'),
  'i8': (a * -10**17).astype('<i8'), 'u8': (a * 7 * 10**17).astype('<u8'), 'f2': (a / 7).astype('<f2'),
  'f4': (a / 7).astype('<f4'), 'f8': a / 7, 'be_f4': (a / 7).astype('>f4'), 'be_i8': (a * -10**17).astype('>i8'),
  'fortran': np.asfortranarray(a / 7), 'scalar': np.float64(2.5), 'empty': np.zeros((0, 3), 'f4'),
}
np.savez('${dir}/s.npz', **arrays)
np.savez_compressed('${dir}/c.npz', **arrays)
`);
      for (const file of ['s.npz', 'c.npz']) {
        const read = readNpz(readFileSync(join(dir, file)));
        const a = Array.from({ length: 24 }, (_, i) => i);
        const expectNumbers = (key: string, values: number[], shape = [2, 3, 4]) => {
          const array = read.get(key);
          assert.deepEqual(array?.shape, shape, `${file} ${key} shape`);
          // + 0 folds the -0 of negated zeros (integers have no signed zero).
          const normalize = (list: number[]) => list.map((x) => x + 0);
          assert.deepEqual(
            normalize([...(array?.data ?? [])].map(Number)),
            normalize(values),
            `${file} ${key}`,
          );
        };
        expectNumbers(
          'b1',
          a.map((x) => (x % 3 === 0 ? 1 : 0)),
        );
        expectNumbers('u1', a);
        expectNumbers(
          'i1',
          a.map((x) => -x),
        );
        expectNumbers(
          'i2',
          a.map((x) => x * -1000),
        );
        expectNumbers(
          'u2',
          a.map((x) => x * 2000),
        );
        expectNumbers(
          'i4',
          a.map((x) => x * -1e7),
        );
        expectNumbers(
          'u4',
          a.map((x) => x * 1e8),
        );
        expectNumbers(
          'f4',
          a.map((x) => Math.fround(x / 7)),
        );
        expectNumbers(
          'be_f4',
          a.map((x) => Math.fround(x / 7)),
        );
        expectNumbers(
          'f8',
          a.map((x) => x / 7),
        );
        expectNumbers(
          'fortran',
          a.map((x) => x / 7),
        );
        expectNumbers('scalar', [2.5], []);
        expectNumbers('empty', [], [0, 3]);
        assert.deepEqual(
          [...(read.get('i8')?.data ?? [])],
          a.map((x) => BigInt(x) * -(10n ** 17n)),
        );
        assert.deepEqual(
          [...(read.get('be_i8')?.data ?? [])],
          a.map((x) => BigInt(x) * -(10n ** 17n)),
        );
        assert.deepEqual(
          [...(read.get('u8')?.data ?? [])],
          a.map((x) => BigInt(x) * 7n * 10n ** 17n),
        );
        assert.equal(read.get('b1')?.dtype, 'bool');
        assert.equal(read.get('f2')?.dtype, 'float16');
        // NumPy's own float16 rounding of x/7 must equal ours.
        const halves = readNpz(
          writeNpz({ h: { dtype: 'float16', shape: [24], data: Float32Array.from(a, (x) => x / 7) } }),
        );
        assert.deepEqual([...(read.get('f2')?.data ?? [])], [...(halves.get('h')?.data ?? [])]);
      }
    });

    test('np.load reads what writeNpz writes, stored and compressed', () => {
      for (const compress of [false, true]) {
        const arrays = {
          ...sampleArrays([2, 3]),
          scalar: sampleArrays([]).float64,
          empty: sampleArrays([0, 2]).int32,
        };
        const path = join(dir, `ours-${compress}.npz`);
        writeFileSync(path, writeNpz(arrays, { compress }));
        const report = JSON.parse(
          python(`
import json, numpy as np
with np.load('${path}') as f:
  print(json.dumps({k: [f[k].dtype.str, list(f[k].shape), [repr(x) for x in f[k].ravel().tolist()]] for k in f.files}))
`),
        ) as Record<string, [string, number[], string[]]>;
        assert.deepEqual(Object.keys(report).sort(), Object.keys(arrays).sort());
        for (const [key, array] of Object.entries(arrays)) {
          const [descr, shape, values] = report[key];
          assert.deepEqual(shape, array.shape, key);
          assert.equal(
            descr.slice(1),
            { bool: 'b1', float16: 'f2' }[array.dtype as string] ?? descr.slice(1),
          );
          const ours = [...array.data].map((x) => {
            if (array.dtype === 'bool') return x ? 'True' : 'False';
            if (typeof x === 'bigint') return x.toString();
            if (Number.isNaN(x)) return 'nan';
            if (x === Infinity) return 'inf';
            if (Object.is(x, -0)) return '-0.0';
            return array.dtype.startsWith('float') ? String(x).replace(/^(-?\d+)$/, '$1.0') : String(x);
          });
          const theirs = values.map((v) => (array.dtype.startsWith('float') ? v.replace(/e\+?/, 'e') : v));
          if (array.dtype.startsWith('float')) {
            assert.deepEqual(theirs.map(Number), ours.map(Number), key);
            assert.deepEqual(
              theirs.map((v) => Object.is(Number(v), -0)),
              ours.map((v) => Object.is(Number(v), -0)),
              `${key} signs`,
            );
          } else {
            assert.deepEqual(theirs, ours, key);
          }
        }
      }
    });
  });
}

/** A zip of one deflated member given as raw deflate bytes (what no honest writer would produce). */
function zipDeflated(name: string, deflated: Uint8Array, size: number): Uint8Array {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(deflated.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(deflated.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const directoryAt = local.length + nameBytes.length + deflated.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(directoryAt, 16);
  return Buffer.concat([local, nameBytes, deflated, central, nameBytes, end]);
}

describe('hostile npz input', () => {
  test('a small member that inflates to far more than its header declares is stopped early', async () => {
    // A header for two floats, then 256 MiB of zeros: about 256 KiB deflated.
    const header = handNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(0));
    const deflater = createDeflateRaw({ level: 9 });
    const parts: Buffer[] = [];
    deflater.on('data', (chunk: Buffer) => parts.push(chunk));
    const done = once(deflater, 'end');
    deflater.write(header);
    const zeros = Buffer.alloc(1 << 20);
    for (let k = 0; k < 256; k++) if (!deflater.write(zeros)) await once(deflater, 'drain');
    deflater.end();
    await done;
    const bytes = zipDeflated('w.npy', Buffer.concat(parts), 0xfffffff0);
    assert.ok(bytes.length < 1 << 20, `archive of ${bytes.length} bytes`);
    const before = process.memoryUsage().arrayBuffers;
    assertInputError(
      () => readNpz(bytes),
      /^member 'w\.npy': data runs past the 136 bytes its shape \(2\) of <f4 needs \(stopped inflating\)$/,
    );
    // It stopped within a chunk of the limit instead of holding the 256 MiB.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 16 << 20, `array buffers grew by ${grown} bytes`);
  });

  test('an archive of 20,000 members reads every member, and the zip directory once', (t) => {
    // Reading the directory again for each member (quadratic in the members) decodes every
    // member's name once per member: 400 million names. Counted, not timed: the names are not ASCII,
    // so every zip reader decodes them as UTF-8 through TextDecoder, and the count stops the quadratic
    // reading at once instead of letting it run for minutes.
    const members = 20_000;
    const arrays: Record<string, NdArray> = {};
    for (let k = 0; k < members; k++)
      arrays[`ä${k}`] = { dtype: 'uint8', shape: [1], data: Uint8Array.of(k % 256) };
    const archive = writeNpz(arrays);
    // A member's name in the directory and in its local header, its .npy header: a few each.
    const bound = 4 * members;
    let decoded = 0;
    const decode = TextDecoder.prototype.decode;
    t.mock.method(
      TextDecoder.prototype,
      'decode',
      function (this: InstanceType<typeof TextDecoder>, ...args: Parameters<typeof decode>) {
        if (++decoded > bound)
          throw new Error(`more than ${bound} strings decoded: the directory is read again`);
        return decode.apply(this, args);
      },
    );
    const read = readNpz(archive);
    t.mock.restoreAll();
    assert.equal(read.size, members);
    assert.deepEqual([...read.get('ä19999')!.data], [19999 % 256]);
    assert.ok(decoded >= members, `${decoded} strings decoded`);
  });
});
