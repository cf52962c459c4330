/**
 * A small protobuf codec driven by a field table, for ONNX graph surgery. Unlike protobufjs'
 * generated code it loses nothing it does not know: a field missing from the table (one a newer
 * ONNX added) is kept as its raw bytes and written back in its place, and a repeated number field
 * keeps the packed or unpacked form it arrived in. Fields are written in field-number order, as
 * protobuf's C++, Python and JavaScript writers all do, so a model those wrote re-encodes to the
 * same bytes; `decodeExactly` refuses one that does not.
 */
export type Int64 = number | bigint;
export type ScalarKind = 'int32' | 'int64' | 'uint64' | 'float' | 'double' | 'string' | 'bytes';

interface FieldSpec {
  readonly name: string;
  readonly kind: ScalarKind | (() => MessageSpec);
  readonly repeated: boolean;
}

export interface MessageSpec {
  readonly fields: ReadonlyMap<number, FieldSpec>;
  /** Field numbers, ascending: the order they are written in. */
  readonly order: readonly number[];
}

export type FieldTable = Record<number, readonly [name: string, kind: FieldSpec['kind'], repeated?: 'repeated']>;

export function message(table: FieldTable): MessageSpec {
  const fields = new Map<number, FieldSpec>();
  for (const [number, [name, kind, repeated]] of Object.entries(table)) {
    fields.set(Number(number), { name, kind, repeated: repeated === 'repeated' });
  }
  return { fields, order: [...fields.keys()].sort((a, b) => a - b) };
}

/** What a decoded message carries besides its fields: kept on a hidden, non-enumerable property. */
interface WireDetails {
  /** Fields the table does not know, tag included, in arrival order. */
  unknown: { field: number; bytes: Uint8Array }[];
  /** Repeated number fields that arrived one element per tag (proto2's default) rather than packed. */
  unpacked: Set<number>;
}

const WIRE = Symbol('protobuf wire details');

type Decoded = Record<string, unknown> & { [WIRE]?: WireDetails };

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

// --- decoding ---

class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** An unsigned varint: a number below 2^49, a bigint (mod 2^64) above. */
  varint(): number | bigint {
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError(`truncated varint at byte ${start}`);
      if ((this.bytes[this.pos++]! & 0x80) === 0) {
        if (i < 7) {
          let value = 0;
          for (let j = this.pos - 1; j >= start; j--) value = value * 128 + (this.bytes[j]! & 0x7f);
          return value;
        }
        let value = 0n;
        for (let j = this.pos - 1; j >= start; j--) value = (value << 7n) | BigInt(this.bytes[j]! & 0x7f);
        return BigInt.asUintN(64, value);
      }
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${start}`);
  }

  length(): number {
    const n = this.varint();
    if (typeof n !== 'number' || this.pos + n > this.end) {
      throw new ProtobufError(`length ${n} at byte ${this.pos} runs past the end of its message`);
    }
    return n;
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LENGTH_DELIMITED) this.advance(this.length());
    else if (wireType === FIXED32) this.advance(4);
    else throw new ProtobufError(`wire type ${wireType} (groups, or not protobuf) at byte ${this.pos}`);
  }

  advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError(`field at byte ${this.pos} runs past the end of its message`);
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8');

function toInt64(raw: number | bigint): Int64 {
  if (typeof raw === 'number') return raw;
  const signed = BigInt.asIntN(64, raw);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(signed) : signed;
}

function toUint64(raw: number | bigint): Int64 {
  return typeof raw === 'bigint' && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw;
}

function toInt32(raw: number | bigint): number {
  return typeof raw === 'bigint' ? Number(BigInt.asIntN(32, raw)) : (raw % 2 ** 32) | 0;
}

function numberWireType(kind: ScalarKind): number {
  return kind === 'float' ? FIXED32 : kind === 'double' ? FIXED64 : VARINT;
}

function readNumber(reader: Reader, kind: ScalarKind): number | bigint {
  if (kind === 'float' || kind === 'double') {
    const size = kind === 'float' ? 4 : 8;
    reader.advance(size);
    const view = new DataView(reader.bytes.buffer, reader.bytes.byteOffset + reader.pos - size, size);
    return kind === 'float' ? view.getFloat32(0, true) : view.getFloat64(0, true);
  }
  const raw = reader.varint();
  return kind === 'int32' ? toInt32(raw) : kind === 'int64' ? toInt64(raw) : toUint64(raw);
}

function decodeMessage(bytes: Uint8Array, start: number, end: number, spec: MessageSpec): Decoded {
  const out: Decoded = {};
  const details: WireDetails = { unknown: [], unpacked: new Set() };
  Object.defineProperty(out, WIRE, { value: details, enumerable: false, writable: true });
  for (const field of spec.fields.values()) if (field.repeated) out[field.name] = [];
  const reader = new Reader(bytes, start, end);
  while (reader.pos < end) {
    const tagStart = reader.pos;
    const tag = reader.varint();
    if (typeof tag !== 'number' || tag < 8 || tag > 0xffffffff) throw new ProtobufError(`invalid field tag at byte ${tagStart}`);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    const field = spec.fields.get(number);
    if (!field || !readField(reader, wireType, field, out, details, number)) {
      reader.pos = tagStart;
      reader.varint();
      reader.skip(wireType);
      details.unknown.push({ field: number, bytes: bytes.subarray(tagStart, reader.pos) });
    }
  }
  return out;
}

/** Reads one occurrence of a known field; false when its wire type is not the table's (kept raw). */
function readField(reader: Reader, wireType: number, field: FieldSpec, out: Decoded, details: WireDetails, number: number): boolean {
  const { kind } = field;
  const store = (value: unknown) => {
    if (field.repeated) (out[field.name] as unknown[]).push(value);
    else out[field.name] = value;
  };
  if (typeof kind === 'function' || kind === 'string' || kind === 'bytes') {
    if (wireType !== LENGTH_DELIMITED) return false;
    const length = reader.length();
    const start = reader.pos;
    reader.pos += length;
    if (typeof kind === 'function') store(decodeMessage(reader.bytes, start, start + length, kind()));
    else if (kind === 'string') store(utf8.decode(reader.bytes.subarray(start, start + length)));
    else store(reader.bytes.subarray(start, start + length));
    return true;
  }
  if (field.repeated && wireType === LENGTH_DELIMITED) {
    const length = reader.length();
    const end = reader.pos + length;
    const packed = new Reader(reader.bytes, reader.pos, end);
    while (packed.pos < end) store(readNumber(packed, kind));
    reader.pos = end;
    return true;
  }
  if (wireType !== numberWireType(kind)) return false;
  if (field.repeated) details.unpacked.add(number);
  store(readNumber(reader, kind));
  return true;
}

// --- encoding ---

/** Collects the output as pieces, so large `bytes` fields (inline weights) are copied once, at the end. */
class Sink {
  readonly parts: Uint8Array[] = [];
  length = 0;
  private scratch = new Uint8Array(4096);
  private used = 0;

  byte(b: number): void {
    if (this.used === this.scratch.length) this.flush();
    this.scratch[this.used++] = b;
    this.length++;
  }

  bytes(piece: Uint8Array): void {
    if (piece.length <= 64) {
      for (const b of piece) this.byte(b);
      return;
    }
    this.flush();
    this.parts.push(piece);
    this.length += piece.length;
  }

  append(child: Sink): void {
    child.flush();
    this.flush();
    for (const part of child.parts) this.parts.push(part);
    this.length += child.length;
  }

  flush(): void {
    if (this.used === 0) return;
    this.parts.push(this.scratch.subarray(0, this.used));
    this.scratch = new Uint8Array(4096);
    this.used = 0;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function writeVarint(sink: Sink, value: number | bigint): void {
  if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
    while (value >= 128) {
      sink.byte((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    sink.byte(value);
    return;
  }
  let big = BigInt.asUintN(64, BigInt(value));
  while (big >= 128n) {
    sink.byte(Number(big & 0x7fn) | 0x80);
    big >>= 7n;
  }
  sink.byte(Number(big));
}

function writeNumber(sink: Sink, kind: ScalarKind, value: unknown): void {
  if (kind === 'float' || kind === 'double') {
    const bytes = new Uint8Array(kind === 'float' ? 4 : 8);
    const view = new DataView(bytes.buffer);
    if (kind === 'float') view.setFloat32(0, Number(value), true);
    else view.setFloat64(0, Number(value), true);
    for (const b of bytes) sink.byte(b);
    return;
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') throw new ProtobufError(`${kind} field holds ${typeof value}`);
  // int32 and int64 negatives are sign-extended to ten bytes, as every protobuf writer does.
  writeVarint(sink, value);
}

const utf8Encoder = new TextEncoder();

function writeValue(sink: Sink, number: number, field: FieldSpec, value: unknown): void {
  const { kind } = field;
  if (typeof kind === 'function') {
    const child = new Sink();
    encodeInto(child, value as Decoded, kind());
    writeVarint(sink, number * 8 + LENGTH_DELIMITED);
    writeVarint(sink, child.length);
    sink.append(child);
  } else if (kind === 'string' || kind === 'bytes') {
    const bytes = kind === 'string' ? utf8Encoder.encode(String(value)) : (value as Uint8Array);
    writeVarint(sink, number * 8 + LENGTH_DELIMITED);
    writeVarint(sink, bytes.length);
    sink.bytes(bytes);
  } else {
    writeVarint(sink, number * 8 + numberWireType(kind));
    writeNumber(sink, kind, value);
  }
}

function writeField(sink: Sink, number: number, field: FieldSpec, value: unknown, unpacked: boolean): void {
  if (value === undefined || value === null) return;
  if (!field.repeated) return writeValue(sink, number, field, value);
  const values = value as ArrayLike<unknown>;
  if (values.length === 0) return;
  const { kind } = field;
  if (typeof kind === 'function' || kind === 'string' || kind === 'bytes' || unpacked) {
    for (let i = 0; i < values.length; i++) writeValue(sink, number, field, values[i]);
    return;
  }
  // Packed: what ONNX's proto3 rendering and protobufjs write for a field that did not arrive unpacked.
  const body = new Sink();
  for (let i = 0; i < values.length; i++) writeNumber(body, kind, values[i]);
  writeVarint(sink, number * 8 + LENGTH_DELIMITED);
  writeVarint(sink, body.length);
  sink.append(body);
}

function encodeInto(sink: Sink, value: Decoded, spec: MessageSpec): void {
  const details = value[WIRE];
  const unknown = details ? [...details.unknown].sort((a, b) => a.field - b.field) : [];
  let u = 0;
  for (const number of spec.order) {
    while (u < unknown.length && unknown[u]!.field < number) sink.bytes(unknown[u++]!.bytes);
    const field = spec.fields.get(number)!;
    writeField(sink, number, field, value[field.name], details?.unpacked.has(number) ?? false);
  }
  while (u < unknown.length) sink.bytes(unknown[u++]!.bytes);
}

export function decode<T>(bytes: Uint8Array, spec: MessageSpec): T {
  return decodeMessage(bytes, 0, bytes.length, spec) as T;
}

export function encode<T extends object>(value: T, spec: MessageSpec): Uint8Array {
  const sink = new Sink();
  encodeInto(sink, value as Decoded, spec);
  return sink.finish();
}

/** Byte offset of the first difference between two encodings, or -1 when they are identical. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Fields of `value` that the table did not know, as (field number, raw bytes with tag). */
export function unknownFields(value: object): readonly { field: number; bytes: Uint8Array }[] {
  return (value as Decoded)[WIRE]?.unknown ?? [];
}
