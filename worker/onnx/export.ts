import type { Architecture, GraphNode } from '../arch/graph.ts';
import type { MaskSet } from '../sparsity/masks.ts';
import {
  type AttributeProto,
  type DimensionProto,
  encodeModel,
  type NodeProto,
  onnx,
  type TensorProto,
  type TypeProto,
} from './proto.ts';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const OPSET = 13;

export interface ExportOptions {
  /** Per layer, torch layout (ONNX's own for Conv, and for Gemm with transB). */
  weights: readonly Float32Array[];
  /** Zeroes the pruned weights, so that the file's zero pattern is the mask. */
  masks?: MaskSet;
}

function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return {
    name,
    dims: [...dims],
    dataType: FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

const filled = (length: number, value: number) => new Float32Array(length).fill(value);

/**
 * The architecture as an ONNX graph in PyTorch's conventions (NCHW, Conv weights (out, in, kh, kw)
 * with explicit `pads`, Gemm with transB), one initializer per prunable layer named as the layer,
 * so that a zoo mask file keys the same weights in both paths.
 */
export function exportOnnx(arch: Architecture, options: ExportOptions): Uint8Array {
  const initializers: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const tensorName: string[] = [];
  /** Activation rank without the batch axis, per graph node. */
  const rank: number[] = [];
  const layerIndex = new Map(arch.layers.map((layer, k) => [layer.node.id, k]));
  const attr = (name: string, ints: number[]): AttributeProto => ({
    name,
    type: onnx.AttributeProto.AttributeType.INTS,
    ints,
  });

  const emit = (node: GraphNode, opType: string, inputs: string[], attribute: AttributeProto[] = []) => {
    const output = `${opType.toLowerCase()}_${node.id}`;
    nodes.push({ name: output, opType, input: inputs, output: [output], attribute });
    return output;
  };
  /** The input as a flat [N, F] tensor, inserting a Flatten where it still has spatial axes. */
  const flat = (id: number) => {
    if (rank[id] === 1) return tensorName[id];
    const output = `flatten_${id}`;
    nodes.push({ name: output, opType: 'Flatten', input: [tensorName[id]], output: [output], attribute: [] });
    return output;
  };

  for (const node of arch.nodes) {
    let output: string;
    let outRank = 3;
    switch (node.kind) {
      case 'input':
        output = 'input';
        break;
      case 'conv': {
        const k = layerIndex.get(node.id)!;
        initializers.push(floatTensor(node.name, arch.layers[k].shape, maskedWeights(options, k)));
        const [, inH, inW] = node.inShape;
        const [, outH, outW] = node.shape;
        const bottom = (outH - 1) * node.stride + node.kernel - inH - node.padTop;
        const right = (outW - 1) * node.stride + node.kernel - inW - node.padLeft;
        output = emit(
          node,
          'Conv',
          [tensorName[node.input], node.name],
          [
            attr('kernel_shape', [node.kernel, node.kernel]),
            attr('strides', [node.stride, node.stride]),
            attr('pads', [node.padTop, node.padLeft, Math.max(bottom, 0), Math.max(right, 0)]),
          ],
        );
        break;
      }
      case 'dense': {
        const k = layerIndex.get(node.id)!;
        initializers.push(floatTensor(node.name, arch.layers[k].shape, maskedWeights(options, k)));
        const inputs = [flat(node.input), node.name];
        if (node.bias) {
          initializers.push(
            floatTensor(`${node.name}.bias`, [node.outFeatures], filled(node.outFeatures, 0)),
          );
          inputs.push(`${node.name}.bias`);
        }
        output = emit(node, 'Gemm', inputs, [
          { name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ]);
        outRank = 1;
        break;
      }
      case 'batchnorm': {
        const channels = node.shape[0];
        const prefix = `batchnorm_${node.id}`;
        const stats: [string, number][] = [
          ['scale', 1],
          ['bias', 0],
          ['mean', 0],
          ['var', 1],
        ];
        for (const [name, value] of stats) {
          initializers.push(floatTensor(`${prefix}.${name}`, [channels], filled(channels, value)));
        }
        output = emit(node, 'BatchNormalization', [
          tensorName[node.input],
          ...stats.map(([name]) => `${prefix}.${name}`),
        ]);
        outRank = rank[node.input];
        break;
      }
      case 'relu':
        output = emit(node, 'Relu', [tensorName[node.input]]);
        outRank = rank[node.input];
        break;
      case 'pool':
        output = emit(
          node,
          node.op === 'max' ? 'MaxPool' : 'AveragePool',
          [tensorName[node.input]],
          [attr('kernel_shape', [node.size, node.size]), attr('strides', [node.stride, node.stride])],
        );
        break;
      case 'globalAvgPool':
        output = emit(node, 'GlobalAveragePool', [tensorName[node.input]]);
        break;
      case 'flatten':
        output = flat(node.input);
        outRank = 1;
        break;
      case 'add':
        output = emit(
          node,
          'Add',
          node.inputs.map((id) => tensorName[id]),
        );
        outRank = rank[node.inputs[0]];
        break;
    }
    tensorName.push(output);
    rank.push(outRank);
  }

  const [h, w, c] = arch.input;
  const tensorType = (dims: DimensionProto[]): TypeProto => ({
    tensorType: { elemType: FLOAT, shape: { dim: dims } },
  });
  const last = arch.nodes.length - 1;
  return encodeModel({
    irVersion: 8,
    producerName: 'esweep',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: arch.name,
      node: nodes,
      initializer: initializers,
      input: [
        {
          name: 'input',
          type: tensorType([{ dimParam: 'batch' }, { dimValue: c }, { dimValue: h }, { dimValue: w }]),
        },
      ],
      output: [
        {
          name: tensorName[last],
          type: tensorType([{ dimParam: 'batch' }, { dimValue: arch.nodes[last].shape[0] }]),
        },
      ],
    },
  });
}

function maskedWeights(options: ExportOptions, k: number): Float32Array {
  const weights = options.weights[k];
  const mask = options.masks?.[k];
  if (!mask) return weights;
  // +0 (not weight·0, which can be −0) keeps the zero pattern plain.
  const masked = new Float32Array(weights.length);
  for (let j = 0; j < masked.length; j++) if (mask[j]) masked[j] = weights[j];
  return masked;
}
