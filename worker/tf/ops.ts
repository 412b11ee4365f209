/**
 * The two differentiable primitives every model and pruner uses, with gradients written so they are
 * fast on the wasm backend (docs/performance.md): there, `matMul` with transpose flags is much slower
 * than an explicit `tf.transpose`, `Conv2DBackpropFilter` is not registered and `Conv2DBackpropInput`
 * is a plain loop.
 *
 * One implementation for every backend: both ops always go through `tf.customGrad`, so the cpu
 * backend's tests exercise the very code wasm runs.
 * - dense always transposes explicitly: the copies are O(n·in + in·out) next to an O(n·in·out)
 *   product, noise on backends that would not need them.
 * - conv2d's gradients are the backend's own kernels where those are fast (tfjs-node: both; cpu: the
 *   input gradient) and forward convs elsewhere (wasm: both), per the table below.
 */
import * as tf from '@tensorflow/tfjs';

export interface GradOptions {
  /**
   * False when x is the network's input data. `tf.customGrad` computes every input's gradient
   * eagerly, and dx of the first layer costs as much as its forward pass (+40% of a LeNet-300-100
   * step) for nothing. Default true; with false, x gets no gradient at all.
   */
  inputGrad?: boolean;
}

type Grad<X extends tf.Tensor, W extends tf.Tensor, Y extends tf.Tensor> = (dy: Y, x: X, w: W) => tf.Tensor;

/** y = f(x, w) with the given gradients, taping x only when its gradient is wanted. */
function withGrads<X extends tf.Tensor, W extends tf.Tensor, Y extends tf.Tensor>(
  x: X,
  w: W,
  options: GradOptions,
  forward: (x: X, w: W) => Y,
  gradX: Grad<X, W, Y>,
  gradW: Grad<X, W, Y>,
): Y {
  const inputs = options.inputGrad === false ? [w] : [x, w];
  const taped = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    save([x, w]);
    return {
      value: forward(x, w),
      gradFunc: (dy: Y, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [X, W];
        const dw = gradW(dy, xs, ws);
        return inputs.length === 2 ? [gradX(dy, xs, ws), dw] : [dw];
      },
    };
  }) as (...ts: tf.Tensor[]) => Y;
  return taped(...inputs);
}

/** y = x·w for x [n, in], w [in, out]; gradients dx = dy·wᵀ, dw = xᵀ·dy with explicit transposes. */
export function dense(x: tf.Tensor2D, w: tf.Tensor2D, options: GradOptions = {}): tf.Tensor2D {
  return withGrads(
    x,
    w,
    options,
    (xi, wi) => tf.matMul(xi, wi),
    (dy, _xs, ws) => tf.matMul(dy, tf.transpose(ws)),
    (dy, xs) => tf.matMul(tf.transpose(xs), dy),
  );
}

export type Conv2DPad = 'same' | 'valid' | number;
export type Conv2DStrides = number | [number, number];

/**
 * TF's convolution geometry, from tfjs' own helper so it matches `tf.conv2d` exactly. 'same' pads
 * (out−1)·stride + k − in in total with the odd one at the bottom/right: e.g. stride 2 on an even
 * input pads 0 on top/left and k−2 on bottom/right (1 for 3×3). A number pads that much on all sides.
 */
export function conv2dGeometry(
  xShape: readonly number[],
  wShape: readonly number[],
  strides: Conv2DStrides,
  pad: Conv2DPad,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    wShape as [number, number, number, number],
    strides,
    1,
    pad,
  );
}

/**
 * Places a NHWC tensor at row `top`, column `left` of a zero frame `height`×`width`; negative
 * offsets and overhangs crop instead.
 */
function frame(t: tf.Tensor4D, top: number, left: number, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = t.shape;
  const bottom = height - top - h;
  const right = width - left - w;
  const grow = (v: number) => Math.max(0, v);
  let out = t;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    out = tf.pad(out, [
      [0, 0],
      [grow(top), grow(bottom)],
      [grow(left), grow(right)],
      [0, 0],
    ]);
  }
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    out = tf.slice(out, [0, grow(-top), grow(-left), 0], [n, height, width, c]);
  }
  return out;
}

/**
 * dL/dw of a conv as a forward conv, the one conv kernel that is fast on wasm (XNNPACK).
 * dw[ky, kx, i, o] = Σ over n, oy, ox of xpad[n, oy·s + ky, ox·s + kx, i] · dy[n, oy, ox, o] is a
 * correlation of the padded input with dy over (oy, ox), summed over the batch: so the input goes in
 * with its channels as the batch and its batch as channels [ci, H, W, n], dy becomes the filter
 * [oh, ow, n, co] dilated by the stride, and the output is [ci, kh, kw, co]. Faster than im2col on
 * the layers that dominate (docs/performance.md).
 */
export function conv2dFilterGradByConv(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  wShape: readonly number[],
  strides: Conv2DStrides,
  pad: Conv2DPad,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = conv2dGeometry(x.shape, wShape, strides, pad);
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { filterHeight: kh, filterWidth: kw } = info;
    // Exactly the rows/columns some tap reads, so the output is kh×kw: unread padding or input is cut.
    const framed = frame(x, info.padInfo.top, info.padInfo.left, (oh - 1) * sh + kh, (ow - 1) * sw + kw);
    const byChannel = tf.transpose(framed, [3, 1, 2, 0]) as tf.Tensor4D;
    const dyFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const dwByChannel = tf.conv2d(byChannel, dyFilter, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.transpose(dwByChannel, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * dL/dx of a conv as a forward conv (wasm's `Conv2DBackpropInput` is a plain loop): spread dy out
 * by the stride (zeros between rows/columns), frame it with k−1−pad zeros before, and correlate it
 * with the kernel rotated 180° and its in/out channels swapped. With stride s the conv runs over s²
 * times the positions, most of them zeros, and still beats the loop (docs/performance.md).
 */
export function conv2dInputGradByConv(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: readonly number[],
  strides: Conv2DStrides,
  pad: Conv2DPad,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = conv2dGeometry(xShape, w.shape, strides, pad);
    const { batchSize: n, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow, outChannels: co } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
    // Spread: [n, oh, 1, ow, 1, co] padded to [n, oh, sh, ow, sw, co] puts dy[oy] at row oy·sh.
    const spread =
      sh * sw > 1
        ? tf
            .pad(dy.reshape([n, oh, 1, ow, 1, co]), [
              [0, 0],
              [0, 0],
              [0, sh - 1],
              [0, 0],
              [0, sw - 1],
              [0, 0],
            ])
            .reshape([n, oh * sh, ow * sw, co])
        : dy;
    const framed = frame(
      spread as tf.Tensor4D,
      kh - 1 - info.padInfo.top,
      kw - 1 - info.padInfo.left,
      ih + kh - 1,
      iw + kw - 1,
    );
    const rotated = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(framed as tf.Tensor4D, rotated, 1, 'valid');
  });
}

/**
 * Which conv gradients a backend computes with its own kernel, where that kernel is the faster one
 * (timings in docs/performance.md); the rest are forward convs. tfjs-node runs TensorFlow's own
 * kernels (cuDNN on a GPU).
 */
const OWN_CONV_GRAD_KERNELS: Readonly<Record<string, { input: boolean; filter: boolean }>> = {
  tensorflow: { input: true, filter: true },
  cpu: { input: true, filter: false },
};
const FORWARD_CONVS_ONLY = { input: false, filter: false };

/** dL/dx by the backend's `Conv2DBackpropInput`, via the public `tf.conv2dTranspose`. */
export function conv2dInputGradNative(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: readonly number[],
  strides: Conv2DStrides,
  pad: Conv2DPad,
): tf.Tensor4D {
  return tf.conv2dTranspose(dy, w, xShape as [number, number, number, number], strides, pad);
}

/** dL/dw by the backend's `Conv2DBackpropFilter` kernel (tfjs exports no op for it). */
export function conv2dFilterGradNative(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  wShape: readonly number[],
  strides: Conv2DStrides,
  pad: Conv2DPad,
): tf.Tensor4D {
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1, filterShape: [...wShape] };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor4D;
}

/**
 * y = conv(x, w): x NHWC, w HWIO (keras layout), no dilation, output NHWC; the same forward and
 * padding as `tf.conv2d` (see `conv2dGeometry`).
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  strides: Conv2DStrides,
  pad: Conv2DPad,
  options: GradOptions = {},
): tf.Tensor4D {
  const own = () => OWN_CONV_GRAD_KERNELS[tf.getBackend()] ?? FORWARD_CONVS_ONLY;
  return withGrads(
    x,
    w,
    options,
    (xi, wi) => tf.conv2d(xi, wi, strides, pad),
    (dy: tf.Tensor4D, xs, ws) =>
      (own().input ? conv2dInputGradNative : conv2dInputGradByConv)(dy, ws, xs.shape, strides, pad),
    (dy: tf.Tensor4D, xs, ws) =>
      (own().filter ? conv2dFilterGradNative : conv2dFilterGradByConv)(xs, dy, ws.shape, strides, pad),
  );
}
