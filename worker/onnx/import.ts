import { InputError } from '../../common/errors.ts';
import type { NdArray } from '../io/npz.ts';
import { nextSetBit, PackedMask, wordsFor } from '../sparsity/bits.ts';
import {
  type Net,
  type NetLayer,
  type NetLayerInfo,
  type NetNode,
  reshapeLinks,
  type Shape3,
  unitCount,
  type Window,
} from '../sparsity/net.ts';
import { broadcastLinks, concatLinks, mixLinks, transposeLinks, type UnitLinks } from './links.ts';
import {
  type AttributeProto,
  int64,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './proto.ts';
import { type ExternalReader, elementCount, integerValues, nonZeroPattern, tensorDims } from './tensor.ts';

/** A net node before the importer numbers it (and, for `define`, shapes it). */
type Unnumbered<K extends string> = NetNode extends infer N
  ? N extends NetNode
    ? Omit<N, K>
    : never
  : never;

/** A value flowing through the graph: an activation (a net node) or a constant tensor. */
type Value = { kind: 'activation'; node: number; dims: number[] } | { kind: 'constant'; tensor: TensorProto };

export interface ImportOptions {
  /** The report's name for the network (the file name). */
  name: string;
  /** Masks keyed by initializer name, in the initializer's own shape; non-zero = kept. */
  masks?: Map<string, NdArray>;
  readExternal?: ExternalReader;
}

/** A prunable layer's weights, whose mask is read once the whole graph has been translated. */
interface PendingMask {
  weights: TensorProto;
  dims: number[];
  params: number;
  /** The caller's mask for these weights, if any (else the zero pattern). */
  given: NdArray | undefined;
  /** Stored (in, out): the mask is transposed to the engine's (out, in). */
  transposed: boolean;
}

export interface ImportedModel {
  net: Net;
  /** Aligned with `net.layers`, in the engine's (out, in/groups, kh, kw) order, packed one bit per weight. */
  masks: PackedMask[];
}

/** A `[c, h, w]` view of dimensions without the batch axis (units keep their row-major order). */
export function shape3(dims: readonly number[]): Shape3 {
  switch (dims.length) {
    case 0:
      return [1, 1, 1];
    case 1:
      return [dims[0], 1, 1];
    case 2:
      return [dims[0], 1, dims[1]];
    default:
      return [dims[0], dims[1], elementCount(dims.slice(2))];
  }
}

const ELEMENTWISE_UNARY = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'HardSigmoid',
  'HardSwish',
  'Tanh',
  'Elu',
  'Selu',
  'Celu',
  'Gelu',
  'Mish',
  'Softplus',
  'Softsign',
  'ThresholdedRelu',
  'Clip',
  'Abs',
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Reciprocal',
  'Erf',
  'Cast',
  'Identity',
  'Dropout',
  'BatchNormalization',
]);
const ELEMENTWISE_NARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sum', 'Max', 'Min', 'Mean']);
const POOLS = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const REDUCTIONS = new Set([
  'ReduceMean',
  'ReduceMax',
  'ReduceMin',
  'ReduceSum',
  'ReduceProd',
  'ReduceL1',
  'ReduceL2',
  'ReduceLogSumExp',
  'ReduceSumSquare',
]);
const SOFTMAXES = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);
const SHAPE_OPS = new Set(['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze', 'Transpose', 'Concat']);

export const SUPPORTED_OPS = [
  'Conv',
  'Gemm',
  'MatMul',
  ...ELEMENTWISE_NARY,
  ...POOLS,
  ...GLOBAL_POOLS,
  ...REDUCTIONS,
  ...SOFTMAXES,
  ...SHAPE_OPS,
  ...ELEMENTWISE_UNARY,
  'Constant',
].sort();

/** Output size and padding before the first element of one spatial axis of a sliding window. */
function windowAxis(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  pads: readonly [number, number],
  autoPad: string,
  ceilMode: boolean,
): { out: number; begin: number } {
  const span = (kernel - 1) * dilation + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return { out, begin: autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2) };
  }
  if (autoPad === 'VALID') return { out: Math.floor((size - span) / stride) + 1, begin: 0 };
  const room = size + pads[0] + pads[1] - span;
  let out = (ceilMode ? Math.ceil(room / stride) : Math.floor(room / stride)) + 1;
  // A window that would start in the end padding is dropped (ONNX and PyTorch ceil mode).
  if (ceilMode && (out - 1) * stride >= size + pads[0]) out--;
  return { out, begin: pads[0] };
}

class Importer {
  private readonly nodes: NetNode[] = [];
  private readonly layers: NetLayerInfo[] = [];
  private readonly pending: PendingMask[] = [];
  private readonly values = new Map<string, Value>();
  private readonly unusedMasks: Set<string>;
  private readonly opset: number;
  private node: NodeProto = {};

  constructor(
    private readonly model: ModelProto,
    private readonly options: ImportOptions,
  ) {
    this.unusedMasks = new Set(options.masks?.keys() ?? []);
    const own = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
    this.opset = own ? int64(own.version) : 1;
  }

  run(): ImportedModel {
    const graph = this.model.graph!;
    for (const tensor of graph.initializer ?? [])
      this.values.set(tensor.name ?? '', { kind: 'constant', tensor });
    for (const input of graph.input ?? []) {
      if (this.values.has(input.name ?? '')) continue;
      this.addInput(input);
    }
    for (const node of graph.node ?? []) {
      this.node = node;
      this.translate(node);
    }
    const outputs = (graph.output ?? [])
      .map((output) => this.values.get(output.name ?? ''))
      .flatMap((value) => (value?.kind === 'activation' ? [value.node] : []));
    if (outputs.length === 0) throw new InputError('the graph has no output computed from its input');
    if (this.unusedMasks.size > 0) {
      throw new InputError(
        `masks for ${[...this.unusedMasks].join(', ')}, which are not weights of a Conv, Gemm or MatMul layer`,
      );
    }
    const net: Net = {
      name: this.options.name,
      nodes: this.nodes,
      outputs,
      layers: this.layers,
      totalParams: this.layers.reduce((sum, layer) => sum + layer.params, 0),
    };
    return { net, masks: this.readMasks() };
  }

  /**
   * The masks, packed one bit per weight, all in one zeroed allocation (each starting on a word): one
   * backing store, made before the scans, is collected with the rest of the model's garbage; many made
   * between them set off collections while the first ones are still in use (docs/performance.md).
   */
  private readMasks(): PackedMask[] {
    const offsets: number[] = [];
    let size = 0;
    for (const layer of this.pending) {
      offsets.push(size);
      size += wordsFor(layer.params);
    }
    const buffer = new ArrayBuffer(size * 4);
    return this.pending.map(({ weights, dims, params, given, transposed }, k) => {
      const mask = new PackedMask(params, new Uint32Array(buffer, offsets[k] * 4, wordsFor(params)));
      const stored = transposed ? new PackedMask(params) : mask;
      if (given) {
        for (let e = 0; e < params; e++) if (given.data[e]) stored.set(e);
      } else {
        nonZeroPattern(weights, this.options.readExternal, stored);
      }
      if (transposed) {
        const outputs = dims[1];
        const inputs = dims[0];
        for (
          let e = nextSetBit(stored.words, 0, params);
          e < params;
          e = nextSetBit(stored.words, e + 1, params)
        ) {
          const i = Math.floor(e / outputs);
          mask.set((e - i * outputs) * inputs + i);
        }
      }
      return mask;
    });
  }

  private addInput(input: ValueInfoProto): void {
    const name = input.name ?? '';
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    if (dims.length < 2)
      throw new InputError(`graph input '${name}' needs a batch axis and at least one more`);
    const rest = dims.slice(1).map((dim, a) => {
      const value = int64(dim.dimValue);
      if (!(value > 0)) {
        throw new InputError(
          `graph input '${name}': axis ${a + 1} has no fixed size (${dim.dimParam || 'unknown'}); export with a fixed input size`,
        );
      }
      return value;
    });
    this.values.set(name, {
      kind: 'activation',
      node: this.push({ kind: 'input', shape: shape3(rest) }),
      dims: rest,
    });
  }

  private push(node: Unnumbered<'id'>): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id } as NetNode);
    return id;
  }

  private fail(reason: string): never {
    const name = this.node.name || this.node.output?.[0] || '?';
    throw new InputError(`node '${name}' (${this.node.opType}): ${reason}`);
  }

  private attribute(name: string): AttributeProto | undefined {
    return (this.node.attribute ?? []).find((a) => a.name === name);
  }

  private int(name: string, fallback: number): number {
    const a = this.attribute(name);
    return a ? int64(a.i) : fallback;
  }

  private ints(name: string): number[] | undefined {
    const a = this.attribute(name);
    return a ? (a.ints ?? []).map(int64) : undefined;
  }

  private text(name: string, fallback: string): string {
    const a = this.attribute(name);
    return a?.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
  }

  private input(k: number): Value | undefined {
    const name = this.node.input?.[k];
    if (!name) return undefined;
    const value = this.values.get(name);
    if (!value) this.fail(`input '${name}' is not produced by any earlier node or initializer`);
    return value;
  }

  private activation(k: number): Extract<Value, { kind: 'activation' }> {
    const value = this.input(k);
    if (value?.kind !== 'activation') this.fail(`input ${k} must be computed from the graph input`);
    return value;
  }

  private constant(k: number, what: string): TensorProto {
    const value = this.input(k);
    if (value?.kind !== 'constant') this.fail(`${what} must be an initializer or Constant`);
    return value.tensor;
  }

  private define(dims: number[], node: Unnumbered<'id' | 'shape'>): void {
    this.defineNode(this.push({ ...node, shape: shape3(dims) } as Unnumbered<'id'>), dims);
  }

  private defineNode(node: number, dims: number[]): void {
    this.values.set(this.node.output?.[0] ?? '', { kind: 'activation', node, dims });
  }

  private defineLinks(dims: number[], inputs: number[], links: UnitLinks): void {
    this.define(dims, { kind: 'links', inputs, ...links });
  }

  /** A non-batch axis from an attribute value that counts the batch axis (negative from the end). */
  private axis(axis: number, rank: number): number {
    const a = axis < 0 ? axis + rank + 1 : axis;
    if (a === 0) this.fail('operating along the batch axis is not supported');
    if (a < 1 || a > rank) this.fail(`axis ${axis} is out of range for rank ${rank + 1}`);
    return a - 1;
  }

  private translate(node: NodeProto): void {
    if (node.domain && node.domain !== 'ai.onnx')
      this.fail(`operators of domain '${node.domain}' are not supported`);
    const handler = this.handlerFor(node.opType ?? '');
    if (!handler) this.fail(`unsupported operator (supported: ${SUPPORTED_OPS.join(', ')})`);
    handler();
  }

  private handlerFor(op: string): (() => void) | undefined {
    if (op === 'Constant') return () => this.constantNode();
    if (op === 'Conv') return () => this.conv();
    if (op === 'Gemm' || op === 'MatMul') return () => this.dense(op);
    if (POOLS.has(op)) return () => this.pool(op);
    if (GLOBAL_POOLS.has(op)) return () => this.globalPool();
    if (ELEMENTWISE_UNARY.has(op)) return () => this.unary();
    if (ELEMENTWISE_NARY.has(op)) return () => this.elementwise();
    if (REDUCTIONS.has(op)) return () => this.reduce();
    if (SOFTMAXES.has(op)) return () => this.softmax();
    if (op === 'Concat') return () => this.concat();
    if (op === 'Transpose') return () => this.transpose();
    if (SHAPE_OPS.has(op)) return () => this.reshape(op);
    return undefined;
  }

  private constantNode(): void {
    const value = this.attribute('value');
    if (!value?.t) this.fail('only tensor-valued Constant nodes are supported');
    this.values.set(this.node.output?.[0] ?? '', {
      kind: 'constant',
      tensor: { ...value.t, name: this.node.output?.[0] },
    });
  }

  /** Registers a weight tensor as a prunable layer; `transposed` when it is stored (in, out). */
  private addLayer(weights: TensorProto, node: Omit<NetLayer, 'id' | 'kind'>, transposed: boolean): number {
    const name = weights.name ?? '';
    if (this.layers.some((layer) => layer.name === name))
      this.fail(`weights '${name}' are shared with another layer`);
    const dims = tensorDims(weights);
    const params = elementCount(dims);
    const given = this.options.masks?.get(name);
    if (given) {
      this.unusedMasks.delete(name);
      if (given.shape.join() !== dims.join()) {
        throw new InputError(
          `mask '${name}': shape (${given.shape.join(', ')}) does not match the weights (${dims.join(', ')})`,
        );
      }
    }
    this.pending.push({ weights, dims, params, given, transposed });
    const id = this.push({ ...node, kind: 'layer' });
    this.layers.push({ name, shape: dims, params, node: this.nodes[id] as NetLayer });
    return id;
  }

  private windowFor(
    inDims: readonly number[],
    kernel: readonly number[],
    ceilMode: boolean,
  ): { window: Window; outSpatial: number[] } {
    const spatial = inDims.length - 1;
    if (spatial !== 1 && spatial !== 2)
      this.fail(`only 1-D and 2-D windows are supported (input rank ${inDims.length + 1})`);
    if (kernel.length !== spatial)
      this.fail(`kernel rank ${kernel.length} does not match ${spatial} spatial axes`);
    const strides = this.ints('strides') ?? kernel.map(() => 1);
    const dilations = this.ints('dilations') ?? kernel.map(() => 1);
    const pads = this.ints('pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
    const autoPad = this.text('auto_pad', 'NOTSET');
    if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad))
      this.fail(`unknown auto_pad '${autoPad}'`);
    if (strides.length !== spatial || dilations.length !== spatial || pads.length !== 2 * spatial) {
      this.fail('strides, dilations and pads must match the number of spatial axes');
    }
    const axes = kernel.map((k, a) =>
      windowAxis(inDims[1 + a], k, strides[a], dilations[a], [pads[a], pads[a + spatial]], autoPad, ceilMode),
    );
    if (axes.some((axis) => axis.out < 1))
      this.fail(`input ${inDims.slice(1).join('×')} is smaller than the window`);
    // A 1-D window is a 2-D one on a single row.
    const pick = (values: readonly number[], flat: number) =>
      spatial === 1 ? ([flat, values[0]] as const) : ([values[0], values[1]] as const);
    return {
      window: {
        kernel: pick(kernel, 1),
        stride: pick(strides, 1),
        dilation: pick(dilations, 1),
        padTop: spatial === 1 ? 0 : axes[0].begin,
        padLeft: axes[spatial - 1].begin,
      },
      outSpatial: axes.map((axis) => axis.out),
    };
  }

  private conv(): void {
    const x = this.activation(0);
    const weights = this.constant(1, 'the weights (input 1)');
    const w = tensorDims(weights);
    const groups = this.int('group', 1);
    const channels = x.dims[0];
    if (w.length !== x.dims.length + 1)
      this.fail(`weights of rank ${w.length} for an input of rank ${x.dims.length + 1}`);
    if (groups < 1 || channels % groups !== 0 || w[0] % groups !== 0 || w[1] * groups !== channels) {
      this.fail(`weights (${w.join(', ')}) with group ${groups} do not fit ${channels} input channels`);
    }
    const kernel = w.slice(2);
    const declared = this.ints('kernel_shape');
    if (declared && declared.join() !== kernel.join())
      this.fail(`kernel_shape ${declared.join('×')} differs from the weights' ${kernel.join('×')}`);
    const { window, outSpatial } = this.windowFor(x.dims, kernel, false);
    const dims = [w[0], ...outSpatial];
    const id = this.addLayer(
      weights,
      {
        shape: shape3(dims),
        input: x.node,
        inShape: shape3(x.dims),
        window,
        groups,
        fanIn: w[1] * elementCount(kernel),
      },
      false,
    );
    this.defineNode(id, dims);
  }

  private dense(op: 'Gemm' | 'MatMul'): void {
    const x = this.activation(0);
    if (this.input(1)?.kind !== 'constant')
      this.fail('input 1 must be an initializer (a product of two activations has no weights to prune)');
    const weights = this.constant(1, 'the weights (input 1)');
    const w = tensorDims(weights);
    if (x.dims.length !== 1)
      this.fail(`only flat (rank 2) inputs are supported, got rank ${x.dims.length + 1}`);
    if (op === 'Gemm' && this.int('transA', 0) !== 0) this.fail('transA would move the batch axis');
    if (w.length !== 2) this.fail(`weights of rank ${w.length}, expected 2`);
    const transB = op === 'Gemm' && this.int('transB', 0) === 1;
    const [inputs, outputs] = transB ? [w[1], w[0]] : [w[0], w[1]];
    if (inputs !== x.dims[0]) this.fail(`weights (${w.join(', ')}) do not take ${x.dims[0]} inputs`);
    const id = this.addLayer(
      weights,
      {
        shape: [outputs, 1, 1],
        input: x.node,
        inShape: [inputs, 1, 1],
        window: { kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padTop: 0, padLeft: 0 },
        groups: 1,
        fanIn: inputs,
      },
      !transB,
    );
    this.defineNode(id, [outputs]);
  }

  private pool(op: string): void {
    const x = this.activation(0);
    const kernel = this.ints('kernel_shape');
    if (!kernel) this.fail('kernel_shape is required');
    if (
      op !== 'MaxPool' &&
      this.attribute('dilations') &&
      (this.ints('dilations') ?? []).some((d) => d !== 1)
    ) {
      this.fail('dilations are only defined for MaxPool');
    }
    const { window, outSpatial } = this.windowFor(x.dims, kernel, this.int('ceil_mode', 0) === 1);
    const dims = [x.dims[0], ...outSpatial];
    this.define(dims, { kind: 'pool', input: x.node, inShape: shape3(x.dims), window });
  }

  private globalPool(): void {
    const x = this.activation(0);
    if (x.dims.length < 2) this.fail('global pooling needs spatial axes');
    const inShape = shape3(x.dims);
    const window: Window = {
      kernel: [inShape[1], inShape[2]],
      stride: [1, 1],
      dilation: [1, 1],
      padTop: 0,
      padLeft: 0,
    };
    this.define([x.dims[0], ...x.dims.slice(1).map(() => 1)], {
      kind: 'pool',
      input: x.node,
      inShape,
      window,
    });
  }

  /** One activation; any further inputs (slopes, bounds, BN statistics) are constants. */
  private unary(): void {
    const x = this.activation(0);
    for (let k = 1; k < (this.node.input ?? []).length; k++) {
      if (this.input(k)?.kind === 'activation') this.fail(`input ${k} must be a constant`);
    }
    this.defineNode(x.node, x.dims);
  }

  /** Sums, products, …: a unit is linked to the units of every activation operand it combines. */
  private elementwise(): void {
    const operands = (this.node.input ?? []).map((_, k) => this.input(k)!);
    const activations = operands.flatMap((v) => (v.kind === 'activation' ? [v] : []));
    if (activations.length === 0)
      this.fail('no operand is computed from the graph input (constant folding is not supported)');
    const rank = Math.max(...activations.map((a) => a.dims.length));
    const dims = Array.from({ length: rank }, (_, a) =>
      Math.max(...activations.map((v) => v.dims[a - (rank - v.dims.length)] ?? 1)),
    );
    for (const v of activations) {
      const offset = rank - v.dims.length;
      if (v.dims.some((d, a) => d !== 1 && d !== dims[a + offset]))
        this.fail(`operand shapes do not broadcast`);
    }
    for (const value of operands) {
      if (value.kind !== 'constant') continue;
      // Constants (biases, scales) must not widen the activation: the batch axis is theirs too.
      const c = tensorDims(value.tensor);
      const own = c.length > rank ? c.slice(c.length - rank) : c;
      if (c.length > rank + 1 || own.some((d, a) => d !== 1 && d !== dims[a + rank - own.length])) {
        this.fail(`constant '${value.tensor.name}' (${c.join(', ')}) would broadcast the activation`);
      }
    }
    if (activations.length === 1 && activations[0].dims.join() === dims.join()) {
      this.defineNode(activations[0].node, dims);
      return;
    }
    if (activations.every((v) => v.dims.join() === dims.join())) {
      this.define(dims, { kind: 'sum', inputs: activations.map((v) => v.node) });
      return;
    }
    this.defineLinks(
      dims,
      activations.map((v) => v.node),
      broadcastLinks(
        activations.map((v) => v.dims),
        dims,
      ),
    );
  }

  private axesInput(): number[] | undefined {
    const fromAttribute = this.ints('axes');
    if (fromAttribute) return fromAttribute;
    const value = this.input(1);
    if (!value) return undefined;
    if (value.kind !== 'constant') this.fail('axes must be a constant');
    return integerValues(value.tensor, `node '${this.node.name}' axes`);
  }

  private reduce(): void {
    const x = this.activation(0);
    const given = this.axesInput();
    const all = given === undefined || given.length === 0;
    if (all && this.int('noop_with_empty_axes', 0) === 1) {
      this.defineNode(x.node, x.dims);
      return;
    }
    if (all) this.fail('reducing every axis would mix the batch');
    const axes = given!.map((a) => this.axis(a, x.dims.length));
    const keep = this.int('keepdims', 1) === 1;
    const dims = keep
      ? x.dims.map((d, a) => (axes.includes(a) ? 1 : d))
      : x.dims.filter((_, a) => !axes.includes(a));
    this.defineLinks(dims, [x.node], mixLinks(x.dims, axes, keep));
  }

  private softmax(): void {
    const x = this.activation(0);
    const legacy = this.opset < 13;
    const axis = this.axis(this.int('axis', legacy ? 1 : -1), x.dims.length);
    // Before opset 13 the input is coerced to 2-D: every axis from `axis` on mixes.
    const axes = legacy ? x.dims.map((_, a) => a).filter((a) => a >= axis) : [axis];
    this.defineLinks(x.dims, [x.node], mixLinks(x.dims, axes, 'all'));
  }

  private concat(): void {
    const inputs = (this.node.input ?? []).map((_, k) => this.activation(k));
    const rank = inputs[0].dims.length;
    const axis = this.axis(this.int('axis', 1), rank);
    for (const v of inputs) {
      if (v.dims.length !== rank || v.dims.some((d, a) => a !== axis && d !== inputs[0].dims[a])) {
        this.fail('inputs differ in shape off the concatenation axis');
      }
    }
    const dims = [...inputs[0].dims];
    dims[axis] = inputs.reduce((sum, v) => sum + v.dims[axis], 0);
    const nodes = inputs.map((v) => v.node);
    // Along the first axis after the batch, inputs stack as whole blocks of units.
    if (axis === 0) {
      this.define(dims, { kind: 'concat', inputs: nodes });
      return;
    }
    this.defineLinks(
      dims,
      nodes,
      concatLinks(
        inputs.map((v) => v.dims),
        axis,
      ),
    );
  }

  private transpose(): void {
    const x = this.activation(0);
    const perm = this.ints('perm') ?? x.dims.map((_, a) => x.dims.length - a).concat([0]);
    if (perm.length !== x.dims.length + 1 || perm[0] !== 0)
      this.fail('the permutation must keep the batch axis first');
    const own = perm.slice(1).map((p) => p - 1);
    if (own.slice().sort().join() !== x.dims.map((_, a) => a).join())
      this.fail(`perm ${perm.join(',')} is not a permutation`);
    const dims = own.map((p) => x.dims[p]);
    if (own.every((p, a) => p === a)) {
      this.defineNode(x.node, x.dims);
      return;
    }
    this.defineLinks(dims, [x.node], transposeLinks(x.dims, own));
  }

  /** Flatten, Reshape, Squeeze, Unsqueeze: new dimensions, the same units in the same order. */
  private reshape(op: string): void {
    const x = this.activation(0);
    const units = elementCount(x.dims);
    let dims: number[];
    if (op === 'Flatten') {
      const axis = this.int('axis', 1);
      if ((axis < 0 ? axis + x.dims.length + 1 : axis) !== 1)
        this.fail(`only axis 1 keeps the batch axis apart (got ${axis})`);
      dims = [units];
    } else if (op === 'Reshape') {
      const target = integerValues(this.constant(1, 'the shape (input 1)'), `node '${this.node.name}' shape`);
      const allowZero = this.int('allowzero', 0) === 1;
      // The first entry is the batch axis; the others may copy (0) or infer (−1) a size.
      const rest = target
        .slice(1)
        .map((d, a) => (d === 0 && !allowZero ? (x.dims[a] ?? this.fail('0 copies a missing axis')) : d));
      const inferred = rest.filter((d) => d === -1).length;
      if (inferred > 1) this.fail('more than one −1 in the shape');
      const known = elementCount(rest.filter((d) => d !== -1));
      dims = rest.map((d) => (d === -1 ? units / known : d));
      if (target.length === 0 || !dims.every(Number.isInteger) || elementCount(dims) !== units) {
        this.fail(
          `shape (${target.join(', ')}) does not keep the batch axis and its ${units} units per sample`,
        );
      }
    } else {
      const axes = this.axesInput();
      const rank = op === 'Unsqueeze' ? x.dims.length + (axes?.length ?? 0) : x.dims.length;
      if (op === 'Squeeze') {
        const drop = axes
          ? axes.map((a) => this.axis(a, rank))
          : x.dims.flatMap((d, a) => (d === 1 ? [a] : []));
        if (drop.some((a) => x.dims[a] !== 1)) this.fail('squeezing an axis whose size is not 1');
        dims = x.dims.filter((_, a) => !drop.includes(a));
      } else {
        if (!axes) this.fail('axes are required');
        const added = axes.map((a) => this.axis(a, rank));
        dims = [];
        let next = 0;
        for (let a = 0; a < rank; a++) dims.push(added.includes(a) ? 1 : x.dims[next++]);
      }
    }
    const shape = shape3(dims);
    if (shape3(x.dims).join() === shape.join()) {
      this.defineNode(x.node, dims);
      return;
    }
    this.defineLinks(dims, [x.node], { from: null, ...reshapeLinks(unitCount(shape)) });
  }
}

/** The connectivity net of an ONNX model and the masks of its prunable layers. */
export function importOnnx(model: ModelProto, options: ImportOptions): ImportedModel {
  return new Importer(model, options).run();
}
