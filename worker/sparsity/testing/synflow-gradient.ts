import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../../arch/graph.ts';
import type { MaskSet } from '../masks.ts';

/**
 * The paper's definition of effective weights: replace weights by their 0/1 mask, drop batch norm,
 * activations and biases, feed an all-ones input; a kept weight is effective iff the gradient of the
 * summed output with respect to it is non-zero. Float arithmetic, so only for tiny networks.
 * Pooling must be average pooling here (max pooling routes gradient to one arg-max only).
 */
export function synflowGradientEffective(arch: Architecture, masks: MaskSet): Uint8Array[] {
  const weights = arch.layers.map((layer, k) => {
    const torch = tf.tensor(Array.from(masks[k]), [...layer.shape]);
    return layer.kind === 'dense' ? torch.transpose([1, 0]) : torch.transpose([2, 3, 1, 0]);
  });
  const layerIndex = new Map(arch.layers.map((layer, k) => [layer.node.id, k]));

  const summedOutput = (...w: tf.Tensor[]): tf.Scalar => {
    const values: tf.Tensor[] = [];
    for (const node of arch.nodes) {
      const x = (id: number) => values[id];
      switch (node.kind) {
        case 'input':
          values.push(tf.ones([1, arch.input[0], arch.input[1], arch.input[2]]));
          break;
        case 'conv':
          values.push(
            tf.conv2d(
              x(node.input) as tf.Tensor4D,
              w[layerIndex.get(node.id)!] as tf.Tensor4D,
              node.stride,
              node.padding,
            ),
          );
          break;
        case 'dense':
          values.push(tf.matMul(x(node.input) as tf.Tensor2D, w[layerIndex.get(node.id)!] as tf.Tensor2D));
          break;
        case 'pool':
          if (node.op !== 'avg') throw new Error('max pooling has no path-counting gradient');
          values.push(tf.avgPool(x(node.input) as tf.Tensor4D, node.size, node.stride, 'valid'));
          break;
        case 'globalAvgPool':
          values.push(tf.mean(x(node.input), [1, 2]).reshape([1, 1, 1, -1]));
          break;
        case 'flatten':
          // torch flattens (channel, y, x); tfjs maps are NHWC.
          values.push(x(node.input).transpose([0, 3, 1, 2]).reshape([1, -1]));
          break;
        case 'add':
          values.push(tf.add(x(node.inputs[0]), x(node.inputs[1])));
          break;
        case 'batchnorm':
        case 'relu':
          values.push(x(node.input));
          break;
      }
      // Dense layers take [1, n]; keep flat maps 2-D whatever produced them.
      const last = values[values.length - 1];
      if (node.shape[1] === 1 && node.shape[2] === 1 && last.rank !== 2)
        values[values.length - 1] = last.reshape([1, -1]);
    }
    return tf.sum(values[values.length - 1]);
  };

  return tf.tidy(() => {
    const grads = tf.grads(summedOutput)(weights);
    return arch.layers.map((layer, k) => {
      const torch = layer.kind === 'dense' ? grads[k].transpose([1, 0]) : grads[k].transpose([3, 2, 0, 1]);
      const values = torch.dataSync();
      return Uint8Array.from(values, (g, j) => (g !== 0 && masks[k][j] ? 1 : 0));
    });
  });
}
