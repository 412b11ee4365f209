import type { Architecture, GraphNode, Shape3 } from '../arch/graph.ts';

/**
 * The connectivity analysis's own view of a network: only what decides which units are linked.
 * The zoo's layer graph and imported ONNX graphs both translate into it. Every activation is a
 * `[c, h, w]` map whose units are numbered row-major (channel, row, column); flat tensors are
 * `[n, 1, 1]` and 1-D maps `[c, 1, l]`.
 */

export type { Shape3 };

/** A sliding window over the `[h, w]` plane: output (y, x), offset (dy, dx) reads input
 * (y·strideH + dy·dilationH − padTop, x·strideW + dx·dilationW − padLeft); outside reads padding. */
export interface Window {
  readonly kernel: readonly [h: number, w: number];
  readonly stride: readonly [h: number, w: number];
  readonly dilation: readonly [h: number, w: number];
  readonly padTop: number;
  readonly padLeft: number;
}

interface NetNodeBase {
  readonly id: number;
  readonly shape: Shape3;
}

export interface NetInput extends NetNodeBase {
  readonly kind: 'input';
}

/** A prunable layer: a (grouped) convolution; a dense layer is a 1×1 one on a `[n, 1, 1]` map. */
export interface NetLayer extends NetNodeBase {
  readonly kind: 'layer';
  readonly input: number;
  readonly inShape: Shape3;
  readonly window: Window;
  /** Output channel o reads input channels [g·in/groups, (g+1)·in/groups) for g = ⌊o / (out/groups)⌋. */
  readonly groups: number;
  /** Weights per output channel, (in/groups)·kh·kw: the mask row length (mask layout (out, in/groups, kh, kw)). */
  readonly fanIn: number;
}

/** Max or average pooling: channel by channel over a window (global pooling: the whole plane). */
export interface NetPool extends NetNodeBase {
  readonly kind: 'pool';
  readonly input: number;
  readonly inShape: Shape3;
  readonly window: Window;
}

/** Unit-wise union of equally shaped inputs (residual add, Sum, products of activations). */
export interface NetSum extends NetNodeBase {
  readonly kind: 'sum';
  readonly inputs: readonly number[];
}

/** Inputs stacked along the channel axis, in order (all with the output's h and w). */
export interface NetConcat extends NetNodeBase {
  readonly kind: 'concat';
  readonly inputs: readonly number[];
}

/** Batch norm, activations: the same units, one to one. */
export interface NetIdentity extends NetNodeBase {
  readonly kind: 'identity';
  readonly input: number;
}

/**
 * Any other fixed wiring between units (flatten, reshape, transpose, reductions, softmax): output
 * unit u is linked to the units `(inputs[from[k]], unit[k])` for k in [start[u], start[u + 1]).
 */
export interface NetLinks extends NetNodeBase {
  readonly kind: 'links';
  readonly inputs: readonly number[];
  readonly start: Int32Array;
  /** Index into `inputs`; null when there is one input. */
  readonly from: Uint16Array | null;
  readonly unit: Int32Array;
}

export type NetNode = NetInput | NetLayer | NetPool | NetSum | NetConcat | NetIdentity | NetLinks;

/** A prunable layer's description for reports and mask files. */
export interface NetLayerInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly params: number;
  readonly node: NetLayer;
}

export interface Net {
  readonly name: string;
  /** Topological order; `nodes[i].id === i`. */
  readonly nodes: readonly NetNode[];
  /** The nodes whose units count as outputs (the last node for the zoo). */
  readonly outputs: readonly number[];
  /** Prunable layers in forward order; masks align with this list. */
  readonly layers: readonly NetLayerInfo[];
  readonly totalParams: number;
}

export function netInputsOf(node: NetNode): readonly number[] {
  switch (node.kind) {
    case 'input':
      return [];
    case 'sum':
    case 'concat':
    case 'links':
      return node.inputs;
    default:
      return [node.input];
  }
}

export const unitCount = (shape: Shape3) => shape[0] * shape[1] * shape[2];

/** One-to-one links in row-major order: a reshape (flatten) that keeps every unit's index. */
export function reshapeLinks(units: number): { start: Int32Array; unit: Int32Array } {
  const start = new Int32Array(units + 1);
  const unit = new Int32Array(units);
  for (let u = 0; u < units; u++) {
    start[u + 1] = u + 1;
    unit[u] = u;
  }
  return { start, unit };
}

/** A square window with symmetric stride and no dilation, as the zoo builds them. */
function squareWindow(kernel: number, stride: number, padTop: number, padLeft: number): Window {
  return { kernel: [kernel, kernel], stride: [stride, stride], dilation: [1, 1], padTop, padLeft };
}

function netNodeOf(node: GraphNode, nodes: readonly GraphNode[]): NetNode {
  const { id, shape } = node;
  switch (node.kind) {
    case 'input':
      return { kind: 'input', id, shape };
    case 'conv':
      return {
        kind: 'layer',
        id,
        shape,
        input: node.input,
        inShape: node.inShape,
        window: squareWindow(node.kernel, node.stride, node.padTop, node.padLeft),
        groups: 1,
        fanIn: node.inChannels * node.kernel * node.kernel,
      };
    case 'dense':
      return {
        kind: 'layer',
        id,
        shape,
        input: node.input,
        inShape: [node.inFeatures, 1, 1],
        window: squareWindow(1, 1, 0, 0),
        groups: 1,
        fanIn: node.inFeatures,
      };
    case 'pool':
      return {
        kind: 'pool',
        id,
        shape,
        input: node.input,
        inShape: nodes[node.input].shape,
        window: squareWindow(node.size, node.stride, 0, 0),
      };
    case 'globalAvgPool': {
      const inShape = nodes[node.input].shape;
      return {
        kind: 'pool',
        id,
        shape,
        input: node.input,
        inShape,
        window: { kernel: [inShape[1], inShape[2]], stride: [1, 1], dilation: [1, 1], padTop: 0, padLeft: 0 },
      };
    }
    case 'flatten':
      return {
        kind: 'links',
        id,
        shape,
        inputs: [node.input],
        from: null,
        ...reshapeLinks(unitCount(shape)),
      };
    case 'add':
      return { kind: 'sum', id, shape, inputs: node.inputs };
    case 'batchnorm':
    case 'relu':
      return { kind: 'identity', id, shape, input: node.input };
  }
}

const netCache = new WeakMap<Architecture, Net>();

/** The zoo architecture's connectivity net (node ids and layer order unchanged). Built once. */
export function netOf(arch: Architecture): Net {
  const cached = netCache.get(arch);
  if (cached) return cached;
  const nodes = arch.nodes.map((node) => netNodeOf(node, arch.nodes));
  const net: Net = {
    name: arch.name,
    nodes,
    outputs: [nodes.length - 1],
    layers: arch.layers.map((layer) => ({
      name: layer.name,
      shape: layer.shape,
      params: layer.params,
      node: nodes[layer.node.id] as NetLayer,
    })),
    totalParams: arch.totalParams,
  };
  netCache.set(arch, net);
  return net;
}
