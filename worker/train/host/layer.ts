// What every layer of the host step is: a forward pass and a backward pass over host values.
import type * as tf from '@tensorflow/tfjs';
import type { HostGradient } from '../sgd.ts';
import type { Values } from './values.ts';

export type ParameterGradients = Map<tf.Variable, HostGradient>;

export interface HostLayer {
  forward(x: Values): Values;
  /**
   * The gradient of the layer's input from that of its output, or null where nothing below needs
   * it (the first prunable layer reads data); records its parameters' gradients in `grads`.
   */
  backward(dy: Values, grads: ParameterGradients): Values | null;
}
