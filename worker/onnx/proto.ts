/**
 * The ONNX schema as onnx-proto ships it: protobufjs static code generated from the official
 * onnx.proto (v1.10.2). Fields added by later ONNX releases are skipped as unknown fields, which
 * protobuf's wire format allows; nothing this importer reads has changed since.
 */
import onnxProto from 'onnx-proto';
import { InputError } from '../../common/errors.ts';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type TypeProto = onnxProto.onnx.ITypeProto;
export type DimensionProto = onnxProto.onnx.TensorShapeProto.IDimension;

/** protobufjs hands int64 fields over as numbers or `Long`s (when the long package is present). */
export type Int64 = number | { toNumber(): number };

/**
 * An int64 field as a number. protobufjs computes it in floating point (high · 2³² + low), which V8
 * keeps as a boxed double even when it is a small integer; such numbers in shapes and sizes give the
 * imported net other object layouts than the zoo's, and the analysis compiled for one is thrown away
 * on meeting the other. So integers that fit 32 bits come back as V8's small integers (`| 0`).
 */
export function int64(value: Int64 | null | undefined): number {
  const n = value === null || value === undefined ? 0 : typeof value === 'number' ? value : value.toNumber();
  return (n | 0) === n ? n | 0 : n;
}

/** Decodes a model; anything that is not one becomes a one-line input error. */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`${source}: not an ONNX model (protobuf decoding failed: ${reason})`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new InputError(`${source}: not an ONNX model (it has no graph nodes)`);
  }
  return model;
}

export function encodeModel(model: onnxProto.onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
