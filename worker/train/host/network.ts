import type { Architecture, GraphNode } from '../../arch/graph.ts';
import { inputsOf } from '../../arch/graph.ts';
import type { Batch } from '../../data/index.ts';
import type { Model } from '../../model/model.ts';
import type { HostLayer, ParameterGradients } from './layer.ts';
import { batchNormRelu, HOST_LAYERS, type SparseKernels } from './layers.ts';
import { softmaxCrossEntropyHost } from './loss.ts';
import { Values } from './values.ts';

/**
 * Whether the host step can train `arch`: a chain (each node reads the one before it) of node
 * kinds it has layers for, whose first node with parameters is its first prunable layer (the
 * backward pass stops there: its input is data).
 */
export function hostTrainable(arch: Architecture): boolean {
  const firstWithParameters = arch.nodes.find((node) => node.kind === 'dense' || node.kind === 'batchnorm');
  return (
    firstWithParameters !== undefined &&
    firstWithParameters === arch.layers[0]?.node &&
    arch.nodes.every((node, i) =>
      node.kind === 'input'
        ? i === 0
        : node.kind in HOST_LAYERS && inputsOf(node).length === 1 && inputsOf(node)[0] === i - 1,
    )
  );
}

export function assertHostTrainable(arch: Architecture): void {
  if (!hostTrainable(arch))
    throw new Error(`the host training step cannot train ${arch.name} (not a chain of dense layers)`);
}

function hostLayer(node: GraphNode, model: Model, sparse: SparseKernels): HostLayer {
  const factory = HOST_LAYERS[node.kind] as
    | ((n: GraphNode, m: Model, s: SparseKernels) => HostLayer)
    | undefined;
  if (!factory) throw new Error(`the host training step has no layer for '${node.kind}' nodes`);
  return factory(node, model, sparse);
}

/** The layers of a chain of nodes, each batch norm with its ReLU folded in where one follows it. */
function hostLayers(nodes: readonly GraphNode[], model: Model, sparse: SparseKernels): HostLayer[] {
  const layers: HostLayer[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (node.kind === 'batchnorm' && nodes[i + 1]?.kind === 'relu') {
      layers.push(batchNormRelu(node, model));
      i++;
    } else layers.push(hostLayer(node, model, sparse));
  }
  return layers;
}

/**
 * A model's training-mode loss and gradients without the gradient tape: forward through the
 * model's own variables layer by layer, then backward by hand. On wasm each tfjs op has a fixed
 * cost, and the tape's ops outside the matMuls cost a LeNet-300-100 step half as much again as
 * the matMuls themselves.
 */
export class HostNetwork {
  private readonly layers: HostLayer[];

  /** `sparse[k]`: the kept positions of kernel k where it is computed sparsely; dense by default. */
  constructor(model: Model, sparse: SparseKernels = []) {
    assertHostTrainable(model.arch);
    this.layers = hostLayers(model.arch.nodes.slice(1), model, sparse);
  }

  /** Call inside a `tf.tidy`: tensor gradients belong to it. */
  lossAndGradients(batch: Batch): { loss: number; grads: ParameterGradients } {
    let values = Values.host(batch.images, batch.size, batch.images.length / batch.size);
    for (const layer of this.layers) values = layer.forward(values);
    const { loss, gradient } = softmaxCrossEntropyHost(values.read(), batch.labels, values.cols);
    const grads: ParameterGradients = new Map();
    let d: Values | null = Values.host(gradient, values.rows, values.cols);
    for (let i = this.layers.length - 1; i >= 0 && d; i--) d = this.layers[i].backward(d, grads);
    return { loss, grads };
  }
}
