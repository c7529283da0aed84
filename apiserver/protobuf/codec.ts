/**
 * Schema-driven protobuf ⇄ JSON for Kubernetes objects. One descriptor per message (field
 * number → JSON name and type, in `kinds-*.ts`) serves both directions, so decoding and encoding
 * cannot disagree. The JSON is what the Go types marshal to: zero values of non-pointer fields
 * are left out (`ptr` keeps them), times are RFC 3339, IntOrString is a number or a string,
 * bytes are base64.
 *
 * Decoding reads untrusted bytes: every failure is a {@link ProtobufError} that names the field
 * path, and a body can produce at most {@link DECODE_FIELD_LIMIT} fields, so a small body cannot
 * turn into an unbounded object graph. A field number the descriptor does not know is refused
 * (never dropped silently: it may carry data this server would lose).
 */
import { readFields, readVarint, WireError, type WireField, WireType, WireWriter } from './wire.ts';

/** JSON-scalar types; `time`, `microTime`, `quantity` and `intOrString` are messages on the wire. */
export type Scalar =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'int32'
  | 'int64'
  | 'time'
  | 'microTime'
  | 'quantity'
  | 'intOrString';

/** How a field repeats: once, as a list, or as map<string, type>. */
export type Shape = 'one' | 'list' | 'map';

export interface FieldSpec {
  name: string;
  type: Scalar | MessageSpec;
  shape: Shape;
  /** A pointer in Go: a zero value is data (e.g. `replicas: 0`) and is kept. */
  keepZero: boolean;
}

export interface MessageSpec {
  /** Full protobuf name, for error messages (`k8s.io.api.core.v1.ServiceSpec`). */
  proto: string;
  /** field number → spec */
  fields: ReadonlyMap<number, FieldSpec>;
  /** JSON name → field number (encoding) */
  byName: ReadonlyMap<string, number>;
  /** Field numbers read and dropped on purpose (e.g. managedFields, which this server does not keep). */
  ignored: ReadonlySet<number>;
}

/** `[jsonName, type]` or `[jsonName, type, 'list' | 'map' | 'ptr']` */
export type FieldDef =
  | readonly [string, Scalar | MessageSpec]
  | readonly [string, Scalar | MessageSpec, 'list' | 'map' | 'ptr'];

/** Declares a message: `message('k8s.io.api.core.v1.ServicePort', { 1: ['name', 'string'], ... })`. */
export function message(proto: string, defs: Record<number, FieldDef>, ignored: number[] = []): MessageSpec {
  const fields = new Map<number, FieldSpec>();
  const byName = new Map<string, number>();
  for (const [num, [name, type, flag]] of Object.entries(defs)) {
    const shape: Shape = flag === 'list' || flag === 'map' ? flag : 'one';
    fields.set(Number(num), { name, type, shape, keepZero: flag === 'ptr' });
    byName.set(name, Number(num));
  }
  return { proto, fields, byName, ignored: new Set(ignored) };
}

/** What went wrong and where; `unsupported` means valid protobuf this server cannot decode. */
export class ProtobufError extends Error {
  readonly unsupported: boolean;
  constructor(message: string, unsupported = false) {
    super(message);
    this.name = 'ProtobufError';
    this.unsupported = unsupported;
  }
}

/** Upper bound on decoded fields per body (a real object has far fewer; see the codec tests). */
export const DECODE_FIELD_LIMIT = 200_000;

interface DecodeBudget {
  fields: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(f: WireField, path: string): string {
  try {
    return utf8.decode(f.value as Buffer);
  } catch {
    throw new ProtobufError(`${path}: not valid UTF-8`);
  }
}

function expectWire(f: WireField, wire: WireType, path: string): void {
  if (f.wire !== wire)
    throw new ProtobufError(`${path}: wire type ${f.wire} where the schema has ${wire} (field ${f.field})`);
}

function int(f: WireField, bits: 32 | 64, path: string): number {
  expectWire(f, WireType.Varint, path);
  const n = BigInt.asIntN(bits, f.value as bigint);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
    throw new ProtobufError(`${path}: ${n} is beyond the integers JSON carries exactly`);
  return Number(n);
}

/** Seconds (and nanoseconds) since the epoch → RFC 3339, as metav1.Time / MicroTime marshal. */
function timestamp(buf: Buffer, micro: boolean, path: string, budget: DecodeBudget): string | null {
  let seconds = 0;
  let nanos = 0;
  for (const f of fieldsOf(buf, path, budget)) {
    if (f.field === 1) seconds = int(f, 64, `${path}.seconds`);
    else if (f.field === 2) nanos = int(f, 32, `${path}.nanos`);
  }
  if (seconds === 0 && nanos === 0) return null;
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15 || nanos < 0 || nanos > 999_999_999)
    throw new ProtobufError(`${path}: ${seconds}s ${nanos}ns is not a representable time`);
  const whole = new Date(ms).toISOString().slice(0, 19);
  return micro ? `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${whole}Z`;
}

function fieldsOf(buf: Buffer, path: string, budget: DecodeBudget): WireField[] {
  let fields: WireField[];
  try {
    fields = readFields(buf, 0, DECODE_FIELD_LIMIT - budget.fields);
  } catch (error) {
    if (error instanceof WireError && error.message.startsWith('more than'))
      throw new ProtobufError(`the body holds more than ${DECODE_FIELD_LIMIT} fields`);
    if (error instanceof WireError) throw new ProtobufError(`${path || 'body'}: ${error.message}`);
    throw error;
  }
  budget.fields += fields.length;
  return fields;
}

function decodeValue(f: WireField, type: Scalar | MessageSpec, path: string, budget: DecodeBudget): unknown {
  if (typeof type !== 'string') {
    expectWire(f, WireType.LengthDelimited, path);
    return decodeMessage(f.value as Buffer, type, path, budget);
  }
  switch (type) {
    case 'string':
      expectWire(f, WireType.LengthDelimited, path);
      return text(f, path);
    case 'bytes':
      expectWire(f, WireType.LengthDelimited, path);
      return (f.value as Buffer).toString('base64');
    case 'bool':
      expectWire(f, WireType.Varint, path);
      return f.value !== 0n;
    case 'int32':
      return int(f, 32, path);
    case 'int64':
      return int(f, 64, path);
    case 'time':
    case 'microTime':
      expectWire(f, WireType.LengthDelimited, path);
      return timestamp(f.value as Buffer, type === 'microTime', path, budget);
    case 'quantity': {
      expectWire(f, WireType.LengthDelimited, path);
      const s = fieldsOf(f.value as Buffer, path, budget).find((q) => q.field === 1);
      if (!s) return '0';
      expectWire(s, WireType.LengthDelimited, path);
      return text(s, path);
    }
    case 'intOrString': {
      expectWire(f, WireType.LengthDelimited, path);
      let kind = 0;
      let intVal = 0;
      let strVal = '';
      for (const part of fieldsOf(f.value as Buffer, path, budget)) {
        if (part.field === 1) kind = int(part, 64, path);
        else if (part.field === 2) intVal = int(part, 32, path);
        else if (part.field === 3) {
          expectWire(part, WireType.LengthDelimited, path);
          strVal = text(part, path);
        }
      }
      if (kind !== 0 && kind !== 1)
        throw new ProtobufError(`${path}: IntOrString type ${kind} is neither 0 nor 1`);
      return kind === 0 ? intVal : strVal;
    }
  }
}

/** What a map entry without a value (field 2) holds: the type's zero value, as in Go. */
function zeroOf(type: Scalar | MessageSpec): unknown {
  if (typeof type !== 'string') return {};
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  if (type === 'quantity') return '0';
  if (type === 'time' || type === 'microTime') return null;
  return 0;
}

function isZero(value: unknown): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0;
}

/** Repeated scalar numbers may also come packed (one length-delimited run of varints). */
function unpack(f: WireField, spec: FieldSpec): WireField[] {
  const numeric = spec.type === 'int32' || spec.type === 'int64' || spec.type === 'bool';
  if (!numeric || f.wire !== WireType.LengthDelimited) return [f];
  const out: WireField[] = [];
  let at = 0;
  const buf = f.value;
  while (at < buf.length) {
    let value: bigint;
    let next: number;
    try {
      [value, next] = readVarint(buf, at);
    } catch (error) {
      if (error instanceof WireError) throw new ProtobufError(`${spec.name}: packed ${error.message}`);
      throw error;
    }
    out.push({ field: f.field, wire: WireType.Varint, value, offset: f.offset + at });
    at = next;
  }
  return out;
}

/** Decodes one message into its JSON object. `path` names it in errors (`spec.ports[0]`). */
export function decodeMessage(
  buf: Buffer,
  spec: MessageSpec,
  path = '',
  budget: DecodeBudget = { fields: 0 },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fieldsOf(buf, path, budget)) {
    const field = spec.fields.get(f.field);
    if (!field) {
      if (spec.ignored.has(f.field)) continue;
      throw new ProtobufError(
        `${path || 'object'}: field ${f.field} of ${spec.proto} is not decoded by this server`,
        true,
      );
    }
    const at = path ? `${path}.${field.name}` : field.name;
    if (field.shape === 'list') {
      const list = (out[field.name] as unknown[] | undefined) ?? [];
      for (const one of unpack(f, field))
        list.push(decodeValue(one, field.type, `${at}[${list.length}]`, budget));
      out[field.name] = list;
    } else if (field.shape === 'map') {
      expectWire(f, WireType.LengthDelimited, at);
      let key = '';
      let value: unknown = zeroOf(field.type);
      for (const part of fieldsOf(f.value as Buffer, at, budget)) {
        if (part.field === 1) {
          expectWire(part, WireType.LengthDelimited, at);
          key = text(part, at);
        } else if (part.field === 2)
          value = decodeValue(part, field.type, `${at}[${JSON.stringify(key)}]`, budget);
      }
      const map = (out[field.name] as Record<string, unknown> | undefined) ?? {};
      Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      out[field.name] = map;
    } else out[field.name] = decodeValue(f, field.type, at, budget);
  }
  for (const field of spec.fields.values()) {
    const value = out[field.name];
    if (
      field.shape === 'one' &&
      field.name in out &&
      (value === null || (!field.keepZero && isZero(value)))
    ) {
      delete out[field.name];
    }
  }
  return out;
}

/** JSON this server holds that a descriptor cannot express; the caller answers in JSON instead. */
export class NotEncodableError extends Error {
  constructor(path: string, why: string) {
    super(`${path}: ${why}`);
    this.name = 'NotEncodableError';
  }
}

function encodeTime(value: unknown, micro: boolean, path: string): Buffer {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new NotEncodableError(path, 'not an RFC 3339 time');
  const w = new WireWriter();
  const seconds = Math.floor(ms / 1000);
  if (seconds !== 0) w.writeVarint(1, BigInt(seconds));
  // Date.parse keeps milliseconds only; MicroTime's microseconds are read from the text.
  const fraction = micro ? /\.(\d{1,9})/.exec(value as string)?.[1] : undefined;
  const nanos = fraction ? Number(fraction.padEnd(9, '0')) : (ms - seconds * 1000) * 1e6;
  if (micro && nanos !== 0) w.writeVarint(2, BigInt(nanos));
  return w.finish();
}

function encodeValue(
  w: WireWriter,
  num: number,
  type: Scalar | MessageSpec,
  value: unknown,
  path: string,
): void {
  if (typeof type !== 'string') {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new NotEncodableError(path, `expected an object for ${type.proto}`);
    w.writeBytes(num, encodeMessage(value as Record<string, unknown>, type, path));
    return;
  }
  const fail = (want: string) =>
    new NotEncodableError(path, `expected ${want}, got ${JSON.stringify(value)}`);
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw fail('a string');
      w.writeBytes(num, Buffer.from(value, 'utf8'));
      return;
    case 'bytes':
      if (typeof value !== 'string') throw fail('base64 text');
      w.writeBytes(num, Buffer.from(value, 'base64'));
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw fail('a boolean');
      w.writeVarint(num, value ? 1n : 0n);
      return;
    case 'int32':
    case 'int64':
      if (!Number.isSafeInteger(value)) throw fail('an integer');
      w.writeVarint(num, BigInt(value as number));
      return;
    case 'time':
    case 'microTime':
      w.writeBytes(num, encodeTime(value, type === 'microTime', path));
      return;
    case 'quantity': {
      if (typeof value !== 'string' && typeof value !== 'number') throw fail('a quantity');
      const q = new WireWriter();
      q.writeBytes(1, Buffer.from(String(value), 'utf8'));
      w.writeBytes(num, q.finish());
      return;
    }
    case 'intOrString': {
      const v = new WireWriter();
      if (typeof value === 'number' && Number.isInteger(value)) {
        v.writeVarint(1, 0n);
        v.writeVarint(2, BigInt(value));
      } else if (typeof value === 'string') {
        v.writeVarint(1, 1n);
        v.writeBytes(3, Buffer.from(value, 'utf8'));
      } else throw fail('an integer or a string');
      w.writeBytes(num, v.finish());
      return;
    }
  }
}

/** Encodes a JSON object by its descriptor, fields in number order; unknown keys throw {@link NotEncodableError}. */
export function encodeMessage(obj: Record<string, unknown>, spec: MessageSpec, path = ''): Buffer {
  for (const key of Object.keys(obj)) {
    if (!spec.byName.has(key) && obj[key] !== undefined && obj[key] !== null)
      throw new NotEncodableError(path ? `${path}.${key}` : key, `no field of ${spec.proto}`);
  }
  const w = new WireWriter();
  const numbers = [...spec.fields.keys()].sort((a, b) => a - b);
  for (const num of numbers) {
    const field = spec.fields.get(num)!;
    const value = obj[field.name];
    if (value === undefined || value === null) continue;
    const at = path ? `${path}.${field.name}` : field.name;
    if (field.shape === 'list') {
      if (!Array.isArray(value)) throw new NotEncodableError(at, 'expected a list');
      for (const [i, item] of value.entries()) encodeValue(w, num, field.type, item, `${at}[${i}]`);
    } else if (field.shape === 'map') {
      if (typeof value !== 'object' || Array.isArray(value))
        throw new NotEncodableError(at, 'expected a map');
      for (const key of Object.keys(value).sort()) {
        const entry = new WireWriter();
        entry.writeBytes(1, Buffer.from(key, 'utf8'));
        encodeValue(
          entry,
          2,
          field.type,
          (value as Record<string, unknown>)[key],
          `${at}[${JSON.stringify(key)}]`,
        );
        w.writeBytes(num, entry.finish());
      }
    } else encodeValue(w, num, field.type, value, at);
  }
  return w.finish();
}
