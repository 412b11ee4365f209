/**
 * The one description of a network: a small layer graph in topological order. The tfjs model
 * builder, the pruners and the sparsity analysis all walk this same graph, so no network is
 * defined twice. Activation shapes are channel-first `[c, h, w]` (dense outputs are `[n, 1, 1]`),
 * and prunable weight shapes use the torch layout: dense `(out, in)`, conv `(out, in, kh, kw)`.
 */

export type Shape3 = readonly [c: number, h: number, w: number];

interface NodeBase {
  readonly id: number;
  /** Output activation shape, channel-first. */
  readonly shape: Shape3;
}

export interface InputNode extends NodeBase {
  readonly kind: 'input';
}

export interface ConvNode extends NodeBase {
  readonly kind: 'conv';
  readonly name: string;
  readonly input: number;
  readonly inShape: Shape3;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  /** Zero padding before the first row/column; TF 'same' may pad one more after the last. */
  readonly padTop: number;
  readonly padLeft: number;
  readonly padding: 'same' | 'valid';
}

export interface DenseNode extends NodeBase {
  readonly kind: 'dense';
  readonly name: string;
  readonly input: number;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** A trainable bias (never pruned); hidden layers rely on the batch norm that follows instead. */
  readonly bias: boolean;
  /** Set when the input is a flattened `[c, h, w]` map with h·w > 1 (keras orders it (h, w, c)). */
  readonly flattenedFrom?: Shape3;
}

export interface BatchNormNode extends NodeBase {
  readonly kind: 'batchnorm';
  readonly input: number;
}

export interface ReluNode extends NodeBase {
  readonly kind: 'relu';
  readonly input: number;
}

export interface PoolNode extends NodeBase {
  readonly kind: 'pool';
  readonly op: 'avg' | 'max';
  readonly input: number;
  readonly size: number;
  readonly stride: number;
}

export interface GlobalAvgPoolNode extends NodeBase {
  readonly kind: 'globalAvgPool';
  readonly input: number;
}

export interface FlattenNode extends NodeBase {
  readonly kind: 'flatten';
  readonly input: number;
}

export interface AddNode extends NodeBase {
  readonly kind: 'add';
  readonly inputs: readonly [number, number];
}

export type GraphNode =
  | InputNode
  | ConvNode
  | DenseNode
  | BatchNormNode
  | ReluNode
  | PoolNode
  | GlobalAvgPoolNode
  | FlattenNode
  | AddNode;

export type PrunableNode = ConvNode | DenseNode;

/** A prunable layer as the outside world sees it (CLI, mask files, database). */
export interface PrunableLayer {
  readonly name: string;
  readonly kind: 'conv' | 'dense';
  /** Torch layout. */
  readonly shape: readonly number[];
  readonly params: number;
  readonly node: PrunableNode;
}

export interface Architecture {
  readonly name: string;
  /** The dataset it is shaped for; `name@HxW` where a test resized its images (zoo `imageSize`). */
  readonly dataset: string;
  /** Input as `[h, w, c]` (the datasets' natural layout). */
  readonly input: readonly [h: number, w: number, c: number];
  readonly classes: number;
  /** Topological order; `nodes[i].id === i`; the last node is the output. */
  readonly nodes: readonly GraphNode[];
  /** Prunable layers in forward order. */
  readonly layers: readonly PrunableLayer[];
  readonly totalParams: number;
}

export function weightShape(node: PrunableNode): number[] {
  return node.kind === 'dense'
    ? [node.outFeatures, node.inFeatures]
    : [node.outChannels, node.inChannels, node.kernel, node.kernel];
}

export function inputsOf(node: GraphNode): readonly number[] {
  switch (node.kind) {
    case 'input':
      return [];
    case 'add':
      return node.inputs;
    default:
      return [node.input];
  }
}

/** TF/Keras 'same' padding: total = max((ceil(n/s) − 1)·s + k − n, 0), the smaller half first. */
function samePadding(size: number, kernel: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { out, before: Math.floor(total / 2) };
}

export interface ConvOptions {
  stride?: number;
  padding?: 'same' | 'valid';
}

/** Builds a graph node by node, computing shapes and checking them as it goes. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly names = new Set<string>();

  constructor(input: readonly [h: number, w: number, c: number]) {
    const [h, w, c] = input;
    this.nodes.push({ id: 0, kind: 'input', shape: [c, h, w] });
  }

  get inputId(): number {
    return 0;
  }

  shapeOf(id: number): Shape3 {
    return this.nodes[id].shape;
  }

  private push<T extends GraphNode>(node: Omit<T, 'id'>): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id } as T);
    return id;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate layer name ${name}`);
    this.names.add(name);
    return name;
  }

  conv(input: number, name: string, outChannels: number, kernel: number, options: ConvOptions = {}): number {
    const stride = options.stride ?? 1;
    const padding = options.padding ?? 'same';
    const [c, h, w] = this.shapeOf(input);
    const rows =
      padding === 'same'
        ? samePadding(h, kernel, stride)
        : { out: Math.floor((h - kernel) / stride) + 1, before: 0 };
    const cols =
      padding === 'same'
        ? samePadding(w, kernel, stride)
        : { out: Math.floor((w - kernel) / stride) + 1, before: 0 };
    if (rows.out < 1 || cols.out < 1) throw new Error(`${name}: input ${h}×${w} is smaller than the kernel`);
    return this.push<ConvNode>({
      kind: 'conv',
      name: this.claim(name),
      input,
      inShape: [c, h, w],
      inChannels: c,
      outChannels,
      kernel,
      stride,
      padTop: rows.before,
      padLeft: cols.before,
      padding,
      shape: [outChannels, rows.out, cols.out],
    });
  }

  dense(input: number, name: string, outFeatures: number, options: { bias?: boolean } = {}): number {
    const source = this.nodes[input];
    const [c, h, w] = source.shape;
    if (h !== 1 || w !== 1) throw new Error(`${name}: dense input must be flat, got ${c}×${h}×${w}`);
    const flattenedFrom = source.kind === 'flatten' ? this.shapeOf(source.input) : undefined;
    return this.push<DenseNode>({
      kind: 'dense',
      name: this.claim(name),
      input,
      inFeatures: c,
      outFeatures,
      bias: options.bias ?? false,
      ...(flattenedFrom && flattenedFrom[1] * flattenedFrom[2] > 1 ? { flattenedFrom } : {}),
      shape: [outFeatures, 1, 1],
    });
  }

  batchnorm(input: number): number {
    return this.push<BatchNormNode>({ kind: 'batchnorm', input, shape: this.shapeOf(input) });
  }

  relu(input: number): number {
    return this.push<ReluNode>({ kind: 'relu', input, shape: this.shapeOf(input) });
  }

  pool(input: number, op: 'avg' | 'max', size = 2, stride = size): number {
    const [c, h, w] = this.shapeOf(input);
    const shape: Shape3 = [c, Math.floor((h - size) / stride) + 1, Math.floor((w - size) / stride) + 1];
    if (shape[1] < 1 || shape[2] < 1) throw new Error(`pool: input ${h}×${w} is smaller than the window`);
    return this.push<PoolNode>({ kind: 'pool', op, input, size, stride, shape });
  }

  globalAvgPool(input: number): number {
    return this.push<GlobalAvgPoolNode>({
      kind: 'globalAvgPool',
      input,
      shape: [this.shapeOf(input)[0], 1, 1],
    });
  }

  flatten(input: number): number {
    const [c, h, w] = this.shapeOf(input);
    return this.push<FlattenNode>({ kind: 'flatten', input, shape: [c * h * w, 1, 1] });
  }

  add(a: number, b: number): number {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    if (sa.join() !== sb.join()) throw new Error(`add: shapes ${sa.join('×')} and ${sb.join('×')} differ`);
    return this.push<AddNode>({ kind: 'add', inputs: [a, b], shape: sa });
  }

  build(meta: {
    name: string;
    dataset: string;
    input: readonly [number, number, number];
    classes: number;
  }): Architecture {
    const layers: PrunableLayer[] = [];
    for (const node of this.nodes) {
      if (node.kind !== 'conv' && node.kind !== 'dense') continue;
      const shape = weightShape(node);
      layers.push({
        name: node.name,
        kind: node.kind,
        shape,
        params: shape.reduce((a, b) => a * b, 1),
        node,
      });
    }
    const output = this.nodes[this.nodes.length - 1];
    if (output.shape.join() !== [meta.classes, 1, 1].join()) {
      throw new Error(
        `${meta.name}: output shape ${output.shape.join('×')} does not match ${meta.classes} classes`,
      );
    }
    return {
      ...meta,
      nodes: this.nodes,
      layers,
      totalParams: layers.reduce((sum, layer) => sum + layer.params, 0),
    };
  }
}
