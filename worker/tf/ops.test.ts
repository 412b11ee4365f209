import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend.ts';
import {
  type Conv2DPad,
  type Conv2DStrides,
  conv2d,
  conv2dFilterGradNative,
  conv2dGeometry,
  conv2dInputGradNative,
  dense,
} from './ops.ts';

/** Deterministic N(0,1)-ish values (mulberry32 + Box–Muller), the same on every backend. */
function randoms(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return out;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface Case {
  xShape: number[];
  wShape: number[];
  /** The op under test (ours or tf's), x and w in, y out. */
  ours: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
  builtin: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
}

interface Outputs {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** y, dL/dx and dL/dw of L = Σ y·r (r random) on the given backend. */
async function evaluate(
  backend: string,
  c: Case,
  op: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  seed: number,
): Promise<Outputs> {
  await selectBackend(backend);
  const before = tf.memory().numTensors;
  const x = tf.tensor(randoms(size(c.xShape), seed), c.xShape);
  const w = tf.tensor(randoms(size(c.wShape), seed + 1), c.wShape);
  const y = op(x, w);
  const r = tf.tensor(randoms(y.size, seed + 2), y.shape);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), r)))([x, w]);
  const out = {
    y: Float32Array.from(y.dataSync()),
    dx: Float32Array.from(dx.dataSync()),
    dw: Float32Array.from(dw.dataSync()),
  };
  tf.dispose([x, w, y, r, dx, dw]);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return out;
}

/** |a − b| ≤ 1e-4 · max|b| element-wise: relative to the tensor's scale, so near-zero entries pass. */
function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  assert.ok(scale > 0, `${what}: reference is all zeros`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= 1e-4 * scale, `${what}: max |diff| ${worst} > 1e-4 × ${scale}`);
}

function assertAllClose(actual: Outputs, expected: Outputs, what: string): void {
  assertClose(actual.y, expected.y, `${what} forward`);
  assertClose(actual.dx, expected.dx, `${what} dL/dx`);
  assertClose(actual.dw, expected.dw, `${what} dL/dw`);
}

/** The checks every configuration gets: ours on wasm = ours on cpu = tf's own op on cpu. */
async function checkCase(name: string, c: Case, seed: number): Promise<void> {
  const reference = await evaluate('cpu', c, c.builtin, seed);
  assertAllClose(await evaluate('cpu', c, c.ours, seed), reference, `${name} cpu vs tf`);
  assertAllClose(await evaluate('wasm', c, c.ours, seed), reference, `${name} wasm vs tf`);
}

interface ConvConfig {
  name: string;
  x: number[];
  k: number;
  co: number;
  strides: Conv2DStrides;
  pad: Conv2DPad;
}

const convConfigs: ConvConfig[] = [
  { name: 'LeNet-5 5×5 valid', x: [2, 14, 14, 3], k: 5, co: 6, strides: 1, pad: 'valid' },
  { name: 'VGG 3×3 same', x: [2, 8, 8, 5], k: 3, co: 4, strides: 1, pad: 'same' },
  { name: 'ResNet 3×3 same stride 2, even', x: [2, 8, 8, 4], k: 3, co: 6, strides: 2, pad: 'same' },
  { name: 'ResNet 3×3 same stride 2, odd', x: [2, 9, 7, 4], k: 3, co: 5, strides: 2, pad: 'same' },
  { name: 'ResNet 1×1 shortcut stride 2', x: [2, 8, 8, 4], k: 1, co: 6, strides: 2, pad: 'same' },
  { name: '1×1 stride 2 valid, odd', x: [2, 7, 7, 3], k: 1, co: 2, strides: 2, pad: 'valid' },
  {
    name: '5×5 same stride 2 (pad 1 before, 2 after)',
    x: [2, 10, 9, 3],
    k: 5,
    co: 4,
    strides: 2,
    pad: 'same',
  },
  { name: '3×3 valid stride 2, unused last row', x: [2, 8, 8, 3], k: 3, co: 4, strides: 2, pad: 'valid' },
  { name: '3×3 explicit pad 1', x: [2, 6, 6, 3], k: 3, co: 4, strides: 1, pad: 1 },
  { name: '3×3 explicit pad 3 (> k−1) stride 2', x: [1, 5, 6, 2], k: 3, co: 3, strides: 2, pad: 3 },
  { name: '3×3 strides [1, 2]', x: [2, 7, 8, 3], k: 3, co: 4, strides: [1, 2], pad: 'same' },
];

function convCase(c: ConvConfig): Case {
  return {
    xShape: c.x,
    wShape: [c.k, c.k, c.x[3], c.co],
    ours: (x, w) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad),
    builtin: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad),
  };
}

describe('conv2d', () => {
  convConfigs.forEach((c, i) => {
    test(`${c.name}: forward and gradients on wasm and cpu equal tf.conv2d's`, async () => {
      await checkCase(c.name, convCase(c), 100 + 10 * i);
    });
  });

  test('the tfjs-node path (the backend’s own gradient kernels) equals tf.conv2d’s gradients', async () => {
    for (const c of convConfigs) {
      const nativeOps: Case = {
        ...convCase(c),
        ours: tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
          const [x, w] = args as [tf.Tensor4D, tf.Tensor4D];
          return {
            value: tf.conv2d(x, w, c.strides, c.pad),
            gradFunc: (dy: tf.Tensor4D) => [
              conv2dInputGradNative(dy, w, x.shape, c.strides, c.pad),
              conv2dFilterGradNative(x, dy, w.shape, c.strides, c.pad),
            ],
          };
        }) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
      };
      const reference = await evaluate('cpu', nativeOps, nativeOps.builtin, 7);
      assertAllClose(await evaluate('cpu', nativeOps, nativeOps.ours, 7), reference, `${c.name} native`);
    }
  });

  test('"same" with stride 2 pads like TensorFlow: the extra row/column goes after', () => {
    assert.deepEqual(conv2dGeometry([1, 8, 8, 1], [3, 3, 1, 1], 2, 'same').padInfo, {
      top: 0,
      bottom: 1,
      left: 0,
      right: 1,
      type: 'SAME',
    });
    assert.deepEqual(conv2dGeometry([1, 9, 9, 1], [5, 5, 1, 1], 2, 'same').padInfo, {
      top: 2,
      bottom: 2,
      left: 2,
      right: 2,
      type: 'SAME',
    });
    assert.equal(conv2dGeometry([1, 8, 8, 1], [1, 1, 1, 1], 2, 'same').padInfo.bottom, 0);
  });
});

describe('dense', () => {
  const shapes = [
    { name: 'small', x: [5, 7], w: [7, 3] },
    { name: 'LeNet-300-100 first layer', x: [4, 784], w: [784, 300] },
  ];
  shapes.forEach((s, i) => {
    test(`${s.name}: forward and gradients on wasm and cpu equal tf.matMul's`, async () => {
      const c: Case = {
        xShape: s.x,
        wShape: s.w,
        ours: (x, w) => dense(x as tf.Tensor2D, w as tf.Tensor2D),
        builtin: (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
      };
      await checkCase(s.name, c, 500 + 10 * i);
    });
  });

  test('inputGrad: false computes dL/dw only, with one matMul fewer', async () => {
    await selectBackend('wasm');
    const x = tf.tensor2d(randoms(6 * 5, 1), [6, 5]);
    const w = tf.tensor2d(randoms(5 * 4, 2), [5, 4]);
    const r = tf.tensor2d(randoms(6 * 4, 3), [6, 4]);
    const gradW = (options: { inputGrad?: boolean }) =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.mul(dense(x, v as tf.Tensor2D, options), r)));
    const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, v as tf.Tensor2D), r)))(w);
    const matMuls = async (options: { inputGrad?: boolean }) => {
      const info = await tf.profile(() => gradW(options)(w));
      const dw = info.result as tf.Tensor;
      assertClose(Float32Array.from(dw.dataSync()), Float32Array.from(reference.dataSync()), 'dw');
      dw.dispose();
      return info.kernels.filter((k) => k.name === 'BatchMatMul').length;
    };
    assert.equal(await matMuls({ inputGrad: false }), 2);
    assert.equal(await matMuls({}), 3);
    tf.dispose([x, w, r, reference]);
  });
});
