import { message, type Int64, type MessageSpec } from './protobuf-codec';

/**
 * The ONNX model format as of ONNX 1.18 (IR version 11), written from the published `onnx.proto`
 * (field numbers and types; names in protobufjs' camelCase, which the graph code already used).
 * Only the messages the teacher reads or writes are spelled out; every other field, such as
 * sparse tensors, training info, quantization annotations and IR 11's device configurations, or
 * whatever a later IR adds, travels as raw bytes (`protobuf-codec.ts`), so it survives surgery.
 * `onnx-proto` 8 (IR 8), used before, dropped the IR 10 fields (`metadata_props` on nodes, value
 * infos, graphs and tensors, `overload`) on re-encoding.
 */
export type { Int64 };

export interface StringStringEntryProto {
  key?: string | null;
  value?: string | null;
}

export interface OperatorSetIdProto {
  domain?: string | null;
  version?: Int64 | null;
}

export interface TensorProto {
  dims?: Int64[] | null;
  dataType?: number | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
  stringData?: Uint8Array[] | null;
  int64Data?: Int64[] | null;
  name?: string | null;
  rawData?: Uint8Array | null;
  doubleData?: number[] | null;
  uint64Data?: Int64[] | null;
  docString?: string | null;
  externalData?: StringStringEntryProto[] | null;
  /** 0 DEFAULT, 1 EXTERNAL. */
  dataLocation?: number | null;
  metadataProps?: StringStringEntryProto[] | null;
}

export interface TensorShapeDimension {
  dimValue?: Int64 | null;
  dimParam?: string | null;
  denotation?: string | null;
}

export interface TypeProtoTensor {
  elemType?: number | null;
  shape?: { dim?: TensorShapeDimension[] | null } | null;
}

export interface TypeProto {
  tensorType?: TypeProtoTensor | null;
  denotation?: string | null;
}

export interface ValueInfoProto {
  name?: string | null;
  type?: TypeProto | null;
  docString?: string | null;
  metadataProps?: StringStringEntryProto[] | null;
}

export interface AttributeProto {
  name?: string | null;
  refAttrName?: string | null;
  docString?: string | null;
  type?: number | null;
  f?: number | null;
  i?: Int64 | null;
  s?: Uint8Array | null;
  t?: TensorProto | null;
  g?: GraphProto | null;
  floats?: number[] | null;
  ints?: Int64[] | null;
  strings?: Uint8Array[] | null;
  tensors?: TensorProto[] | null;
  graphs?: GraphProto[] | null;
}

export interface NodeProto {
  input?: string[] | null;
  output?: string[] | null;
  name?: string | null;
  opType?: string | null;
  domain?: string | null;
  overload?: string | null;
  attribute?: AttributeProto[] | null;
  docString?: string | null;
  metadataProps?: StringStringEntryProto[] | null;
}

export interface GraphProto {
  node?: NodeProto[] | null;
  name?: string | null;
  initializer?: TensorProto[] | null;
  docString?: string | null;
  input?: ValueInfoProto[] | null;
  output?: ValueInfoProto[] | null;
  valueInfo?: ValueInfoProto[] | null;
  metadataProps?: StringStringEntryProto[] | null;
}

export interface FunctionProto {
  name?: string | null;
  input?: string[] | null;
  output?: string[] | null;
  attribute?: string[] | null;
  attributeProto?: AttributeProto[] | null;
  node?: NodeProto[] | null;
  docString?: string | null;
  opsetImport?: OperatorSetIdProto[] | null;
  domain?: string | null;
  overload?: string | null;
  valueInfo?: ValueInfoProto[] | null;
  metadataProps?: StringStringEntryProto[] | null;
}

export interface ModelProto {
  irVersion?: Int64 | null;
  opsetImport?: OperatorSetIdProto[] | null;
  producerName?: string | null;
  producerVersion?: string | null;
  domain?: string | null;
  modelVersion?: Int64 | null;
  docString?: string | null;
  graph?: GraphProto | null;
  metadataProps?: StringStringEntryProto[] | null;
  functions?: FunctionProto[] | null;
}

/** `TensorProto.DataType`. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** `AttributeProto.AttributeType`. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

const stringStringEntry = message({ 1: ['key', 'string'], 2: ['value', 'string'] });
const operatorSetId = message({ 1: ['domain', 'string'], 2: ['version', 'int64'] });

const tensor: MessageSpec = message({
  1: ['dims', 'int64', 'repeated'],
  2: ['dataType', 'int32'],
  4: ['floatData', 'float', 'repeated'],
  5: ['int32Data', 'int32', 'repeated'],
  6: ['stringData', 'bytes', 'repeated'],
  7: ['int64Data', 'int64', 'repeated'],
  8: ['name', 'string'],
  9: ['rawData', 'bytes'],
  10: ['doubleData', 'double', 'repeated'],
  11: ['uint64Data', 'uint64', 'repeated'],
  12: ['docString', 'string'],
  13: ['externalData', () => stringStringEntry, 'repeated'],
  14: ['dataLocation', 'int32'],
  16: ['metadataProps', () => stringStringEntry, 'repeated'],
});

const dimension = message({ 1: ['dimValue', 'int64'], 2: ['dimParam', 'string'], 3: ['denotation', 'string'] });
const tensorShape = message({ 1: ['dim', () => dimension, 'repeated'] });
const tensorType = message({ 1: ['elemType', 'int32'], 2: ['shape', () => tensorShape] });
// Sequence, map, optional, sparse and opaque types stay raw: the teacher only reads tensor types.
const type = message({ 1: ['tensorType', () => tensorType], 6: ['denotation', 'string'] });

const valueInfo = message({
  1: ['name', 'string'],
  2: ['type', () => type],
  3: ['docString', 'string'],
  4: ['metadataProps', () => stringStringEntry, 'repeated'],
});

const attribute: MessageSpec = message({
  1: ['name', 'string'],
  2: ['f', 'float'],
  3: ['i', 'int64'],
  4: ['s', 'bytes'],
  5: ['t', () => tensor],
  6: ['g', () => graph],
  7: ['floats', 'float', 'repeated'],
  8: ['ints', 'int64', 'repeated'],
  9: ['strings', 'bytes', 'repeated'],
  10: ['tensors', () => tensor, 'repeated'],
  11: ['graphs', () => graph, 'repeated'],
  13: ['docString', 'string'],
  20: ['type', 'int32'],
  21: ['refAttrName', 'string'],
});

const node = message({
  1: ['input', 'string', 'repeated'],
  2: ['output', 'string', 'repeated'],
  3: ['name', 'string'],
  4: ['opType', 'string'],
  5: ['attribute', () => attribute, 'repeated'],
  6: ['docString', 'string'],
  7: ['domain', 'string'],
  8: ['overload', 'string'],
  9: ['metadataProps', () => stringStringEntry, 'repeated'],
});

const graph: MessageSpec = message({
  1: ['node', () => node, 'repeated'],
  2: ['name', 'string'],
  5: ['initializer', () => tensor, 'repeated'],
  10: ['docString', 'string'],
  11: ['input', () => valueInfo, 'repeated'],
  12: ['output', () => valueInfo, 'repeated'],
  13: ['valueInfo', () => valueInfo, 'repeated'],
  16: ['metadataProps', () => stringStringEntry, 'repeated'],
});

const functionSpec = message({
  1: ['name', 'string'],
  4: ['input', 'string', 'repeated'],
  5: ['output', 'string', 'repeated'],
  6: ['attribute', 'string', 'repeated'],
  7: ['node', () => node, 'repeated'],
  8: ['docString', 'string'],
  9: ['opsetImport', () => operatorSetId, 'repeated'],
  10: ['domain', 'string'],
  11: ['attributeProto', () => attribute, 'repeated'],
  12: ['valueInfo', () => valueInfo, 'repeated'],
  13: ['overload', 'string'],
  14: ['metadataProps', () => stringStringEntry, 'repeated'],
});

export const MODEL_SPEC = message({
  1: ['irVersion', 'int64'],
  2: ['producerName', 'string'],
  3: ['producerVersion', 'string'],
  4: ['domain', 'string'],
  5: ['modelVersion', 'int64'],
  6: ['docString', 'string'],
  7: ['graph', () => graph],
  8: ['opsetImport', () => operatorSetId, 'repeated'],
  14: ['metadataProps', () => stringStringEntry, 'repeated'],
  25: ['functions', () => functionSpec, 'repeated'],
});
