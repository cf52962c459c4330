import { decode, encode } from './protobuf-codec';
import { AttributeType, DataType, MODEL_SPEC, type Int64 } from './onnx-schema';
import type * as onnx from './onnx-schema';
import { toHalfBits } from './half';

/**
 * Small helpers over the ONNX schema (`onnx-schema.ts`): building nodes, constants and value
 * infos, and reading int64 fields, which decode as numbers, or bigints past 2^53.
 */
export { DataType } from './onnx-schema';

export type AttributeValue = number | string | number[] | { int: number } | { ints: number[] };

export function toNumber(value: Int64 | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

function attribute(name: string, value: AttributeValue): onnx.AttributeProto {
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: AttributeType.FLOAT, f: value };
  if (Array.isArray(value)) return { name, type: AttributeType.FLOATS, floats: value };
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  return { name, type: AttributeType.INTS, ints: value.ints };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: Record<string, AttributeValue> = {},
  name = outputs[0]!,
): onnx.NodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
  };
}

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): onnx.TensorProto {
  return { name, dataType: DataType.INT64, dims, int64Data: values };
}

export function floatTensor(name: string, values: ArrayLike<number>, dims: number[]): onnx.TensorProto {
  const data = Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

export function halfTensor(name: string, values: ArrayLike<number>, dims: number[]): onnx.TensorProto {
  const data = Uint16Array.from(values, toHalfBits);
  return { name, dataType: DataType.FLOAT16, dims, rawData: new Uint8Array(data.buffer) };
}

/** A tensor value info; a string dim is symbolic (`batch_size`), a number is fixed. */
export function valueInfo(name: string, elemType: number, shape: (number | string)[]): onnx.ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function encodeModel(model: onnx.ModelProto): Uint8Array {
  return encode(model, MODEL_SPEC);
}

/**
 * Decodes a model; fields the schema does not know are kept and written back by `encodeModel`.
 * They ride on each decoded object (not enumerable), so change decoded messages in place: a spread
 * copy (`{ ...node }`) would drop them.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return decode<onnx.ModelProto>(bytes, MODEL_SPEC);
}

/** Element type and dims (numbers or symbolic names, null when unknown) of a value info. */
export function tensorTypeOf(info: onnx.ValueInfoProto): { elemType: number; dims: (number | string | null)[] } | null {
  const tensor = info.type?.tensorType;
  if (!tensor) return null;
  const dims = (tensor.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue) : null));
  return { elemType: tensor.elemType ?? 0, dims };
}
