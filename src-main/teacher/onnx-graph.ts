import type { onnx } from 'onnx-proto';
import onnxProtoPackage from 'onnx-proto';
import { toHalfBits } from './half';

/**
 * Small helpers over `onnx-proto`'s generated classes: building nodes, constants and value infos,
 * and reading the numbers protobufjs hands back (int64 fields arrive as `Long` objects).
 */
// onnx-proto is CommonJS (`module.exports = root`): Node's ESM loader (vitest) sees only a default
// export, esbuild's bundles see both, so take the namespace from the default import everywhere.
const proto = (onnxProtoPackage as unknown as { onnx: typeof onnx }).onnx;
export const DataType = proto.TensorProto.DataType;
const AttributeType = proto.AttributeProto.AttributeType;

export type AttributeValue = number | string | number[] | { int: number } | { ints: number[] };

/** protobufjs decodes int64 as `Long` (or number when small and `long` is absent). */
export function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
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
): onnx.INodeProto {
  return {
    opType,
    input: inputs,
    output: outputs,
    name,
    attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
  };
}

export function int64Tensor(name: string, values: number[], dims: number[] = [values.length]): onnx.ITensorProto {
  return { name, dataType: DataType.INT64, dims, int64Data: values };
}

export function floatTensor(name: string, values: ArrayLike<number>, dims: number[]): onnx.ITensorProto {
  const data = Float32Array.from(values);
  return { name, dataType: DataType.FLOAT, dims, rawData: new Uint8Array(data.buffer) };
}

export function halfTensor(name: string, values: ArrayLike<number>, dims: number[]): onnx.ITensorProto {
  const data = Uint16Array.from(values, toHalfBits);
  return { name, dataType: DataType.FLOAT16, dims, rawData: new Uint8Array(data.buffer) };
}

/** A tensor value info; a string dim is symbolic (`batch_size`), a number is fixed. */
export function valueInfo(name: string, elemType: number, shape: (number | string)[]): onnx.IValueInfoProto {
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

export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return proto.ModelProto.encode(proto.ModelProto.create(model)).finish();
}

export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  return proto.ModelProto.decode(bytes);
}

/** Element type and dims (numbers or symbolic names, null when unknown) of a value info. */
export function tensorTypeOf(info: onnx.IValueInfoProto): { elemType: number; dims: (number | string | null)[] } | null {
  const tensor = info.type?.tensorType;
  if (!tensor) return null;
  const dims = (tensor.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue) : null));
  return { elemType: tensor.elemType ?? 0, dims };
}
