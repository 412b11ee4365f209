import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import { InputError } from '../../common/errors.ts';
import { ARCHITECTURE_NAMES, architecture } from '../arch/zoo.ts';
import type { NdArray } from '../io/npz.ts';
import { Rng, randomMask } from '../random.ts';
import { analyze, effectiveMasks } from '../sparsity/analysis.ts';
import { bruteForceEffective } from '../sparsity/testing/brute-force.ts';
import { masksEqual, masksSubset } from '../sparsity/testing/tiny-networks.ts';
import { exportOnnx } from './export.ts';
import { loadOnnx } from './model.ts';
import type { TensorProto } from './proto.ts';
import { nonZeroPattern } from './tensor.ts';
import { int64Initializer, type TinyNode, tinyModel } from './testing/tiny-onnx.ts';
import { inWasmMemory, readModelBytes, scanFloat32InPlace } from './wasm-scan.ts';

describe('ONNX export of every zoo architecture analyses as the zoo does', () => {
  for (const name of ARCHITECTURE_NAMES) {
    test(`${name}: analyze --model equals analyze --arch layer by layer at 90/99/99.9 %`, () => {
      const arch = architecture(name);
      const rng = new Rng(11);
      const masksAt = (sparsity: number) =>
        arch.layers.map((l) => randomMask(l.params, Math.max(1, Math.round(l.params * (1 - sparsity))), rng));
      // 99 %: the pruned weights are zeros in the file; 90 and 99.9 %: masks keyed by initializer name.
      const zeroed = masksAt(0.99);
      const weights = arch.layers.map((l) => new Float32Array(l.params).fill(0.5));
      const bytes = exportOnnx(arch, { weights, masks: zeroed });
      const fromZeros = loadOnnx(bytes, `${name}.onnx`);
      assert.deepEqual(analyze(fromZeros.net, fromZeros.masks).layers, analyze(arch, zeroed).layers);
      for (const sparsity of [0.9, 0.999]) {
        const masks = masksAt(sparsity);
        const arrays = new Map(
          arch.layers.map((layer, k) => [
            layer.name,
            { dtype: 'bool', shape: [...layer.shape], data: masks[k] } as NdArray,
          ]),
        );
        const imported = loadOnnx(bytes, `${name}.onnx`, arrays);
        const expected = analyze(arch, masks);
        const actual = analyze(imported.net, imported.masks);
        assert.deepEqual(actual.layers, expected.layers, `sparsity ${sparsity}`);
        assert.equal(actual.effective, expected.effective);
        assert.equal(actual.arch, `${name}.onnx`);
      }
    });
  }
});

/** Grouped and depthwise convs, stride, dilation, explicit asymmetric pads, rectangular kernels. */
const GROUPED: TinyNode[] = [
  { op: 'Conv', inputs: ['x'], output: 'c1', weights: [6, 2, 3, 3], attrs: { group: 2, pads: [1, 1, 1, 1] } },
  { op: 'Relu', inputs: ['c1'], output: 'r1' },
  {
    op: 'Conv',
    inputs: ['r1'],
    output: 'dw',
    weights: [6, 1, 3, 2],
    attrs: { group: 6, strides: [2, 1], dilations: [2, 1], pads: [2, 0, 1, 1] },
  },
  { op: 'BatchNormalization', inputs: ['dw', 's', 'b', 'm', 'v'], output: 'bn' },
  { op: 'Flatten', inputs: ['bn'], output: 'f' },
  { op: 'Gemm', inputs: ['f'], output: 'y', weights: [3, 6 * 3 * 6], attrs: { transB: 1 } },
];

/** Concatenation, a residual add, both auto_pad conventions, padded pooling, MatMul. */
const CONCAT_RESIDUAL: TinyNode[] = [
  {
    op: 'Conv',
    inputs: ['x'],
    output: 'a',
    weights: [4, 3, 3, 3],
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  {
    op: 'Conv',
    inputs: ['x'],
    output: 'b',
    weights: [2, 3, 2, 2],
    attrs: { auto_pad: 'SAME_LOWER', strides: [2, 2] },
  },
  { op: 'Concat', inputs: ['a', 'b'], output: 'cat', attrs: { axis: 1 } },
  { op: 'Conv', inputs: ['cat'], output: 'c', weights: [6, 6, 3, 3], attrs: { pads: [1, 1, 1, 1] } },
  { op: 'Add', inputs: ['c', 'cat'], output: 'sum' },
  { op: 'MaxPool', inputs: ['sum'], output: 'p', attrs: { kernel_shape: [2, 2], pads: [0, 0, 1, 1] } },
  { op: 'GlobalAveragePool', inputs: ['p'], output: 'g' },
  { op: 'Flatten', inputs: ['g'], output: 'f' },
  { op: 'MatMul', inputs: ['f'], output: 'y', weights: [6, 3] },
];

/** A Keras export through tf2onnx: NHWC input, transposes, a reshape, MatMul + bias, softmax. */
const KERAS_LIKE: TinyNode[] = [
  { op: 'Transpose', inputs: ['x'], output: 't', attrs: { perm: [0, 3, 1, 2] } },
  {
    op: 'Conv',
    inputs: ['t'],
    output: 'c',
    weights: [3, 2, 3, 3],
    attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] },
  },
  { op: 'Relu', inputs: ['c'], output: 'r' },
  { op: 'Transpose', inputs: ['r'], output: 'nhwc', attrs: { perm: [0, 2, 3, 1] } },
  { op: 'Reshape', inputs: ['nhwc', 'shape'], output: 'flat' },
  { op: 'MatMul', inputs: ['flat'], output: 'd', weights: [3 * 3 * 3, 4] },
  { op: 'Add', inputs: ['d', 'bias'], output: 'logits' },
  { op: 'Softmax', inputs: ['logits'], output: 'y', attrs: { axis: -1 } },
];

/** Conv1d, average pooling in ceil mode, a channel-axis reduction, Sum of three, Unsqueeze/Squeeze. */
const ONE_D: TinyNode[] = [
  { op: 'Conv', inputs: ['x'], output: 'c', weights: [4, 2, 3], attrs: { pads: [2, 0], dilations: [2] } },
  { op: 'AveragePool', inputs: ['c'], output: 'p', attrs: { kernel_shape: [2], strides: [2], ceil_mode: 1 } },
  { op: 'Conv', inputs: ['p'], output: 'd', weights: [4, 4, 1] },
  { op: 'Sum', inputs: ['p', 'd', 'p'], output: 's' },
  { op: 'ReduceMean', inputs: ['s'], output: 'm', attrs: { axes: [1], keepdims: 1 } },
  { op: 'Unsqueeze', inputs: ['m', 'axes'], output: 'u' },
  { op: 'Squeeze', inputs: ['u', 'axes'], output: 'q' },
  { op: 'Flatten', inputs: ['q'], output: 'f' },
  { op: 'Gemm', inputs: ['f'], output: 'y', weights: [2, 4], attrs: { transB: 1 } },
];

const stats = (channels: number): TensorProto[] =>
  ['s', 'b', 'm', 'v'].map((name) => ({
    name,
    dims: [channels],
    dataType: 1,
    rawData: new Uint8Array(new Float32Array(channels).fill(1).buffer),
  }));

const TINY_GRAPHS: Record<
  string,
  { input: number[]; nodes: TinyNode[]; extra?: () => TensorProto[]; outDims: number[][] }
> = {
  grouped: {
    input: [1, 4, 7, 6],
    nodes: GROUPED,
    extra: () => stats(6),
    outDims: [
      [6, 7, 6],
      [6, 3, 6],
    ],
  },
  concatResidual: {
    input: [1, 3, 6, 5],
    nodes: CONCAT_RESIDUAL,
    outDims: [
      [4, 3, 3],
      [2, 3, 3],
      [6, 3, 3],
    ],
  },
  kerasLike: {
    input: [1, 5, 6, 2],
    nodes: KERAS_LIKE,
    extra: () => [
      int64Initializer('shape', [0, -1]),
      { name: 'bias', dims: [4], dataType: 1, rawData: new Uint8Array(16) },
    ],
    outDims: [[3, 3, 3]],
  },
  oneD: {
    input: [1, 2, 9],
    nodes: ONE_D,
    extra: () => [int64Initializer('axes', [2])],
    outDims: [
      [4, 7],
      [4, 4],
    ],
  },
};

describe('ONNX graphs made by the tests agree with brute-force path enumeration', () => {
  for (const [name, graph] of Object.entries(TINY_GRAPHS)) {
    test(name, () => {
      for (const density of [0.2, 0.45, 0.8]) {
        for (let seed = 1; seed <= 4; seed++) {
          const bytes = tinyModel(graph.input, graph.nodes, {
            density,
            seed,
            extra: graph.extra?.(),
          });
          const { net, masks: packed } = loadOnnx(bytes, `${name}.onnx`);
          const masks = packed.map((mask) => mask.toBytes());
          const exact = effectiveMasks(net, packed);
          assert.deepEqual(exact, effectiveMasks(net, masks), 'packed and byte masks agree');
          assert.ok(masksEqual(exact, bruteForceEffective(net, masks)), `density ${density} seed ${seed}`);
          assert.ok(masksSubset(exact, effectiveMasks(net, masks, 'graph')));
          assert.ok(masksSubset(exact, masks));
        }
      }
      // Output sizes as PyTorch/ONNX define them, computed by hand for each conv layer.
      const { net } = loadOnnx(
        tinyModel(graph.input, graph.nodes, { density: 1, seed: 1, extra: graph.extra?.() }),
        name,
      );
      const convShapes = net.layers.filter((l) => l.shape.length > 2).map((l) => l.node.shape);
      const expected = graph.outDims.map((dims) => (dims.length === 2 ? [dims[0], 1, dims[1]] : dims));
      assert.deepEqual(
        convShapes.map((s) => [...s]),
        expected,
      );
    });
  }

  test('SAME_UPPER pads after, SAME_LOWER and PyTorch-style pads before: different weights read the pixels', () => {
    // A 2×2 image, a 3×3 kernel at stride 2: one output, one row and column of padding in all.
    const effectiveKernel = (attrs: TinyNode['attrs']) => {
      const bytes = tinyModel(
        [1, 1, 2, 2],
        [
          {
            op: 'Conv',
            inputs: ['x'],
            output: 'c',
            weights: [1, 1, 3, 3],
            attrs: { strides: [2, 2], ...attrs },
          },
          { op: 'Flatten', inputs: ['c'], output: 'f' },
          { op: 'Gemm', inputs: ['f'], output: 'y', weights: [1, 1], attrs: { transB: 1 } },
        ],
        { density: 1, seed: 1 },
      );
      const { net, masks } = loadOnnx(bytes, 'pad.onnx');
      return [...effectiveMasks(net, masks)[0]].flatMap((v, k) => (v ? [k] : []));
    };
    assert.deepEqual(effectiveKernel({ auto_pad: 'SAME_UPPER' }), [0, 1, 3, 4]);
    assert.deepEqual(effectiveKernel({ auto_pad: 'SAME_LOWER' }), [4, 5, 7, 8]);
    assert.deepEqual(effectiveKernel({ pads: [1, 1, 0, 0] }), [4, 5, 7, 8]);
    assert.deepEqual(effectiveKernel({ pads: [0, 1, 1, 0] }), [1, 2, 4, 5]);
  });
});

describe('what the analysis is handed', () => {
  const arch = architecture('vgg19');
  const rng = new Rng(3);
  const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * 0.01), rng));
  const weights = arch.layers.map((l) => new Float32Array(l.params).fill(0.5));
  const imported = loadOnnx(exportOnnx(arch, { weights, masks }), 'vgg19.onnx');

  test('sizes from int64 fields are small integers, as the zoo net’s are (not boxed doubles)', () => {
    // A boxed double where the zoo has a small integer gives the imported objects other layouts,
    // and the analysis compiled for the zoo's is thrown away on meeting them.
    v8.setFlagsFromString('--allow-natives-syntax');
    const isSmi = new Function('value', 'return %IsSmi(value)') as (value: number) => boolean;
    for (const node of imported.net.nodes) {
      const numbers: number[] = [...node.shape];
      if (node.kind === 'layer' || node.kind === 'pool') {
        const { kernel, stride, dilation, padTop, padLeft } = node.window;
        numbers.push(...node.inShape, ...kernel, ...stride, ...dilation, padTop, padLeft);
      }
      if (node.kind === 'layer') numbers.push(node.fanIn, node.groups);
      assert.ok(numbers.every(isSmi), `node ${node.id} (${node.kind}): ${numbers.join(', ')}`);
    }
    for (const layer of imported.net.layers)
      assert.ok([...layer.shape, layer.params].every(isSmi), layer.name);
  });

  test('the masks are packed one bit per weight in one allocation, each starting on a word', () => {
    const { buffer } = imported.masks[0].words;
    assert.equal(
      buffer.byteLength,
      imported.masks.reduce((sum, mask) => sum + Math.ceil(mask.length / 32) * 4, 0),
    );
    for (const [k, mask] of imported.masks.entries()) {
      assert.equal(mask.words.buffer, buffer);
      assert.equal(mask.length, arch.layers[k].params);
      assert.deepEqual(mask.toBytes(), masks[k]);
    }
  });
});

describe('masks and failures', () => {
  test('--masks replaces the zero pattern, keyed by initializer name; bad keys and shapes are input errors', () => {
    const bytes = tinyModel([1, 4, 7, 6], GROUPED, { density: 1, seed: 2, extra: stats(6) });
    const dense = loadOnnx(bytes, 'g.onnx');
    assert.ok(dense.masks.every((m) => m.toBytes().every((v) => v === 1)));
    const given = dense.masks.map((m, k) => m.toBytes().map((_, j) => ((j + k) % 3 === 0 ? 1 : 0)));
    // The Gemm weights are stored (out, in) like the engine's masks; MatMul weights would be transposed.
    const arrays = new Map<string, NdArray>(
      dense.net.layers.map((layer, k) => [
        layer.name,
        { dtype: 'bool', shape: [...layer.shape], data: given[k] },
      ]),
    );
    assert.deepEqual(
      loadOnnx(bytes, 'g.onnx', arrays).masks.map((mask) => mask.toBytes()),
      given,
    );
    const typo = new Map([...arrays].map(([key, array]) => [key === 'c1.w' ? 'c1.W' : key, array]));
    assert.throws(
      () => loadOnnx(bytes, 'g.onnx', typo),
      (e: Error) => e instanceof InputError && /c1\.W/.test(e.message) && !e.message.includes('\n'),
    );
    assert.throws(
      () =>
        loadOnnx(
          bytes,
          'g.onnx',
          new Map([['c1.w', { dtype: 'bool', shape: [6, 2, 9], data: given[0] } as NdArray]]),
        ),
      /mask 'c1.w': shape \(6, 2, 9\) does not match the weights \(6, 2, 3, 3\)/,
    );
  });

  test('MatMul weights stored (in, out) give masks in the engine order (out, in)', () => {
    const bytes = tinyModel([1, 3], [{ op: 'MatMul', inputs: ['x'], output: 'y', weights: [3, 2] }], {
      density: 1,
      seed: 1,
    });
    const stored = Uint8Array.from([1, 0, 0, 0, 1, 1]); // (in 3, out 2)
    const { masks } = loadOnnx(
      bytes,
      'm.onnx',
      new Map([['y.w', { dtype: 'bool', shape: [3, 2], data: stored }]]),
    );
    assert.deepEqual([...masks[0].toBytes()], [1, 0, 1, 0, 0, 1]);
  });

  test('an operator outside the set names the node and its type', () => {
    const bytes = tinyModel(
      [1, 2, 4, 4],
      [
        { op: 'Conv', inputs: ['x'], output: 'c', weights: [2, 2, 1, 1] },
        { op: 'LRN', inputs: ['c'], output: 'norm', attrs: { size: 3 } },
      ],
      { density: 1, seed: 1 },
    );
    assert.throws(
      () => loadOnnx(bytes, 'lrn.onnx'),
      (e: Error) =>
        e instanceof InputError &&
        e.message.startsWith("lrn.onnx: node 'norm' (LRN): unsupported operator") &&
        !e.message.includes('\n'),
    );
  });

  test('bytes that are not a model are an input error', () => {
    assert.throws(() => loadOnnx(new TextEncoder().encode('hello, world'), 'x.onnx'), InputError);
    assert.throws(() => loadOnnx(new Uint8Array(0), 'empty.onnx'), /no graph nodes/);
  });

  test('the zero pattern ignores the sign of zero and reads unaligned, half and double data', () => {
    const floats = new Float32Array([0, -0, 1.5, -2, 0, 3]);
    const raw = new Uint8Array(floats.byteLength + 1);
    raw.set(new Uint8Array(floats.buffer), 1);
    const tensor = { name: 'w', dims: [6], dataType: 1, rawData: raw.subarray(1) };
    assert.deepEqual([...nonZeroPattern(tensor).toBytes()], [0, 0, 1, 1, 0, 1]);
    const doubles = new Float64Array([-0, 1e-300, 0]);
    assert.deepEqual(
      [
        ...nonZeroPattern({
          name: 'd',
          dims: [3],
          dataType: 11,
          rawData: new Uint8Array(doubles.buffer),
        }).toBytes(),
      ],
      [0, 1, 0],
    );
    const halves = new Uint16Array([0x8000, 0x3c00, 0]);
    assert.deepEqual(
      [
        ...nonZeroPattern({
          name: 'h',
          dims: [3],
          dataType: 10,
          rawData: new Uint8Array(halves.buffer),
        }).toBytes(),
      ],
      [0, 1, 0],
    );
    assert.deepEqual(
      [...nonZeroPattern({ name: 'f', dims: [3], dataType: 1, floatData: [0, 2, -0] }).toBytes()],
      [0, 1, 0],
    );
  });
});

describe('the zero pattern equals a per-element reading of every data type', () => {
  const T = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9 } as const;
  const types: {
    name: string;
    dataType: number;
    bytes: 1 | 2 | 4 | 8;
    nonZero: (v: DataView, at: number) => boolean;
  }[] = [
    { name: 'float', dataType: T.FLOAT, bytes: 4, nonZero: (v, at) => v.getFloat32(at, true) !== 0 },
    { name: 'double', dataType: 11, bytes: 8, nonZero: (v, at) => v.getFloat64(at, true) !== 0 },
    { name: 'float16', dataType: 10, bytes: 2, nonZero: (v, at) => (v.getUint16(at, true) & 0x7fff) !== 0 },
    { name: 'bfloat16', dataType: 16, bytes: 2, nonZero: (v, at) => (v.getUint16(at, true) & 0x7fff) !== 0 },
    { name: 'int8', dataType: T.INT8, bytes: 1, nonZero: (v, at) => v.getInt8(at) !== 0 },
    { name: 'uint8', dataType: T.UINT8, bytes: 1, nonZero: (v, at) => v.getUint8(at) !== 0 },
    { name: 'bool', dataType: T.BOOL, bytes: 1, nonZero: (v, at) => v.getUint8(at) !== 0 },
    { name: 'int16', dataType: T.INT16, bytes: 2, nonZero: (v, at) => v.getInt16(at, true) !== 0 },
    { name: 'uint16', dataType: T.UINT16, bytes: 2, nonZero: (v, at) => v.getUint16(at, true) !== 0 },
    { name: 'int32', dataType: T.INT32, bytes: 4, nonZero: (v, at) => v.getInt32(at, true) !== 0 },
    { name: 'uint32', dataType: 12, bytes: 4, nonZero: (v, at) => v.getUint32(at, true) !== 0 },
    { name: 'int64', dataType: T.INT64, bytes: 8, nonZero: (v, at) => v.getBigInt64(at, true) !== 0n },
    { name: 'uint64', dataType: 13, bytes: 8, nonZero: (v, at) => v.getBigUint64(at, true) !== 0n },
  ];

  /**
   * Element bytes that are mostly zero, some with only the sign bit set (−0 for floats), NaN and
   * infinities, one low bit (the smallest subnormal, −subnormal) or random bits, in runs and alone.
   * `zeros`: the share of all-zero elements (the rest split as above); a pruned network's is ~0.99,
   * which leaves long zero runs with a lone −0 or subnormal in them.
   */
  function elements(bytes: number, count: number, rng: Rng, zeros: number): Uint8Array {
    const out = new Uint8Array(bytes * count);
    const sign = bytes - 1;
    for (let k = 0; k < count; k++) {
      const at = k * bytes;
      const draw = rng.next();
      if (draw < zeros) continue;
      const pick = 0.6 + (0.4 * (draw - zeros)) / (1 - zeros);
      if (pick < 0.7) out[at + sign] = 0x80;
      else if (pick < 0.75) out.fill(0xff, at, at + bytes);
      else if (pick < 0.8) {
        out[at + sign] = 0x7f;
        if (bytes > 1) out[at + sign - 1] = 0xf0;
      } else if (pick < 0.85) out[at] = 1;
      else if (pick < 0.9) {
        out[at] = 1;
        out[at + sign] |= 0x80;
      } else for (let b = 0; b < bytes; b++) out[at + b] = Math.floor(rng.next() * 256);
    }
    return out;
  }

  for (const type of types) {
    test(`${type.name}: every alignment, sizes around the words and the 256 KiB blocks, dense and sparse`, () => {
      const rng = new Rng(type.dataType);
      const cases = [0, 1, 3, 4, 5, 7, 9, 17, 70_001, 262_147].map((count) => ({ count, zeros: 0.6 }));
      cases.push(...[8, 9, 16, 33, 70_001, 262_147].map((count) => ({ count, zeros: 0.99 })));
      for (const { count, zeros } of cases) {
        const data = elements(type.bytes, count, rng, zeros);
        const view = new DataView(data.buffer);
        const expected = Uint8Array.from({ length: count }, (_, k) =>
          type.nonZero(view, k * type.bytes) ? 1 : 0,
        );
        // float32 bytes in a WebAssembly memory (as readModelBytes leaves a model) take the SIMD kernel.
        const places = type.dataType === T.FLOAT ? ['a buffer', 'a WebAssembly memory'] : ['a buffer'];
        for (const place of places) {
          for (let offset = 0; offset < 8; offset++) {
            const plain = new Uint8Array(data.length + offset + 3).fill(0xff);
            plain.set(data, offset);
            const holder = place === 'a buffer' ? plain : inWasmMemory(plain);
            const rawData = holder.subarray(offset, offset + data.length);
            const mask = nonZeroPattern({ name: 'w', dims: [count], dataType: type.dataType, rawData });
            assert.deepEqual(
              mask.toBytes(),
              expected,
              `${count} elements (${zeros} zeros) at offset ${offset} in ${place}`,
            );
          }
        }
      }
    });
  }

  test('float32 bytes in a WebAssembly memory are scanned where they lie, whole groups of 32', () => {
    const floats = new Float32Array(70).fill(-0);
    floats[3] = 1;
    floats[40] = Number.NaN;
    floats[63] = -1e-45;
    floats[69] = 2;
    const bytes = new Uint8Array(floats.buffer);
    const bits = new Uint32Array(3);
    assert.equal(scanFloat32InPlace(bytes, bits), 0, 'an ordinary buffer is left to the JS scan');
    assert.deepEqual([...bits], [0, 0, 0]);
    const inMemory = inWasmMemory(new Uint8Array([0, ...bytes])).subarray(1);
    assert.equal(scanFloat32InPlace(inMemory, bits), 64);
    assert.deepEqual([...bits], [1 << 3, ((1 << 8) | (1 << 31)) >>> 0, 0]);
  });

  test('NaN, infinities and −0 of float and double: NaN and ±∞ are kept, −0 is pruned', () => {
    const floats = new Float32Array([
      Number.NaN,
      -0,
      Number.POSITIVE_INFINITY,
      0,
      Number.NEGATIVE_INFINITY,
      -1e-45,
    ]);
    const doubles = new Float64Array([
      Number.NaN,
      -0,
      Number.POSITIVE_INFINITY,
      0,
      Number.NEGATIVE_INFINITY,
      -5e-324,
    ]);
    for (const [dataType, values] of [
      [1, floats],
      [11, doubles],
    ] as const) {
      const rawData = new Uint8Array(values.buffer);
      assert.deepEqual(
        [...nonZeroPattern({ name: 'w', dims: [6], dataType, rawData }).toBytes()],
        [1, 0, 1, 0, 1, 1],
      );
    }
  });
});

describe('model bytes read into a WebAssembly memory', () => {
  test('analyze of a model read by readModelBytes equals the one read by readFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-onnx-read-'));
    try {
      for (const name of ['lenet300100', 'lenet5'] as const) {
        const arch = architecture(name);
        const rng = new Rng(5);
        const masks = arch.layers.map((l) => randomMask(l.params, Math.round(l.params * 0.05), rng));
        const weights = arch.layers.map((l) => new Float32Array(l.params).fill(-0.25));
        const path = join(dir, `${name}.onnx`);
        writeFileSync(path, exportOnnx(arch, { weights, masks }));
        const bytes = readModelBytes(path, 'ONNX model');
        const model = new Uint8Array(readFileSync(path));
        assert.deepEqual(bytes, model);
        assert.ok(
          scanFloat32InPlace(bytes.subarray(0, 128), new Uint32Array(1)) > 0,
          'the bytes live in a memory',
        );
        const fromMemory = loadOnnx(bytes, path);
        const fromFile = loadOnnx(model, path);
        assert.deepEqual(analyze(fromMemory.net, fromMemory.masks), analyze(fromFile.net, fromFile.masks));
        assert.deepEqual(analyze(fromMemory.net, fromMemory.masks).layers, analyze(arch, masks).layers);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unreadable model is one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'esweep-onnx-read-'));
    try {
      const missing = join(dir, 'missing.onnx');
      assert.throws(() => readModelBytes(missing, 'ONNX model'), {
        name: 'InputError',
        message: `cannot read ONNX model ${missing}: no such file`,
      });
      assert.throws(() => readModelBytes(dir, 'ONNX model'), {
        name: 'InputError',
        message: `cannot read ONNX model ${dir}: EISDIR`,
      });
      const empty = join(dir, 'empty.onnx');
      writeFileSync(empty, new Uint8Array(0));
      assert.equal(readModelBytes(empty, 'ONNX model').length, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
