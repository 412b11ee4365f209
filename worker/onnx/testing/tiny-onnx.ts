import { Rng } from '../../random.ts';
import { type AttributeProto, encodeModel, type NodeProto, onnx, type TensorProto } from '../proto.ts';

type AttributeValue = number | number[] | string;

/** One node of a test graph; `weights` adds a random initializer `<output>.w` as input 1. */
export interface TinyNode {
  op: string;
  inputs: string[];
  output: string;
  attrs?: Record<string, AttributeValue>;
  weights?: number[];
}

function attribute(name: string, value: AttributeValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return { name, type: T.INT, i: value };
}

export function floatInitializer(name: string, dims: number[], values: Float32Array): TensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer) };
}

export function int64Initializer(name: string, values: number[]): TensorProto {
  const data = new BigInt64Array(values.map(BigInt));
  return {
    name,
    dims: [values.length],
    dataType: onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(data.buffer),
  };
}

/**
 * A model from a node list: one input `x` of `inputDims` (batch first), the last node's output as
 * the graph output, weights drawn uniformly from ±[0.5, 1) and zeroed with probability 1 − density.
 */
export function tinyModel(
  inputDims: number[],
  nodes: TinyNode[],
  options: { density: number; seed: number; opset?: number; extra?: TensorProto[] },
): Uint8Array {
  const rng = new Rng(options.seed);
  const initializers: TensorProto[] = [...(options.extra ?? [])];
  const graphNodes: NodeProto[] = nodes.map((node) => {
    const inputs = [...node.inputs];
    if (node.weights) {
      const count = node.weights.reduce((a, b) => a * b, 1);
      const values = Float32Array.from({ length: count }, () =>
        rng.next() < options.density ? (rng.next() < 0.5 ? -1 : 1) * (0.5 + rng.next() / 2) : 0,
      );
      initializers.push(floatInitializer(`${node.output}.w`, node.weights, values));
      inputs.splice(1, 0, `${node.output}.w`);
    }
    return {
      name: node.output,
      opType: node.op,
      input: inputs,
      output: [node.output],
      attribute: Object.entries(node.attrs ?? {}).map(([name, value]) => attribute(name, value)),
    };
  });
  const dims = (values: number[]) => values.map((v, a) => (a === 0 ? { dimParam: 'N' } : { dimValue: v }));
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: options.opset ?? 13 }],
    graph: {
      name: 'tiny',
      node: graphNodes,
      initializer: initializers,
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: dims(inputDims) } } } }],
      output: [{ name: nodes[nodes.length - 1].output }],
    },
  });
}
