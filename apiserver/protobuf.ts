import { ApiError, badRequest } from './errors.ts';

/**
 * Just enough of the Kubernetes protobuf encoding to accept what kubectl's typed commands send
 * (`kubectl create namespace|configmap|secret|serviceaccount`): the `k8s\0` envelope
 * (runtime.Unknown) around the generated message of the kind. Kinds not listed here are
 * refused with 415 as before; responses are always JSON, which every client decodes.
 */

/** One field as read off the wire (protobuf encoding: wire types 0, 1, 2, 5). */
interface WireField {
  field: number;
  varint?: bigint;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, i + 1];
    shift += 7n;
    if (shift > 70n) break;
  }
  throw badRequest('invalid protobuf body: truncated varint');
}

/** Splits a message into its fields. */
export function readFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, n] = readVarint(buf, at);
      fields.push({ field, varint: v });
      at = n;
    } else if (wire === 2) {
      const [len, n] = readVarint(buf, at);
      const end = n + Number(len);
      if (end > buf.length) throw badRequest('invalid protobuf body: field runs past the end');
      fields.push({ field, bytes: buf.subarray(n, end) });
      at = end;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4; // fixed64/fixed32: no such fields in the kinds we decode
    } else throw badRequest(`invalid protobuf body: wire type ${wire}`);
  }
  return fields;
}

/** How to turn one field into JSON: a scalar, a map, a list of strings, or a nested message. */
type FieldType = 'string' | 'bytes' | 'bool' | 'int' | 'strings' | 'map' | 'bytesMap' | Schema;
/** field number → [JSON name, type] */
type Schema = Record<number, [string, FieldType]>;

const OBJECT_META: Schema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  11: ['labels', 'map'],
  12: ['annotations', 'map'],
  14: ['finalizers', 'strings'],
};

/** kind → schema of its generated message (k8s.io/api/core/v1/generated.proto). */
const KINDS: Record<string, Schema> = {
  Namespace: { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['finalizers', 'strings'] }] },
  ConfigMap: {
    1: ['metadata', OBJECT_META],
    2: ['data', 'map'],
    3: ['binaryData', 'bytesMap'],
    4: ['immutable', 'bool'],
  },
  Secret: {
    1: ['metadata', OBJECT_META],
    2: ['data', 'bytesMap'],
    3: ['type', 'string'],
    4: ['stringData', 'map'],
    5: ['immutable', 'bool'],
  },
  ServiceAccount: { 1: ['metadata', OBJECT_META], 4: ['automountServiceAccountToken', 'bool'] },
};

function decode(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    const spec = schema[f.field];
    if (!spec) continue;
    const [name, type] = spec;
    const text = () => (f.bytes ?? Buffer.alloc(0)).toString('utf8');
    if (type === 'string') {
      if (text() !== '') out[name] = text();
    } else if (type === 'bytes') out[name] = (f.bytes ?? Buffer.alloc(0)).toString('base64');
    else if (type === 'bool') out[name] = f.varint === 1n;
    else if (type === 'int') out[name] = Number(f.varint ?? 0n);
    else if (type === 'strings') out[name] = [...((out[name] as string[] | undefined) ?? []), text()];
    else if (type === 'map' || type === 'bytesMap') {
      const entry = readFields(f.bytes ?? Buffer.alloc(0));
      const key = entry.find((e) => e.field === 1)?.bytes?.toString('utf8') ?? '';
      const value = entry.find((e) => e.field === 2)?.bytes ?? Buffer.alloc(0);
      const map = (out[name] as Record<string, string> | undefined) ?? {};
      map[key] = type === 'map' ? value.toString('utf8') : value.toString('base64');
      out[name] = map;
    } else {
      const nested = decode(f.bytes ?? Buffer.alloc(0), type);
      if (Object.keys(nested).length > 0) out[name] = nested;
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** Decodes a protobuf request body of a supported kind into its JSON form; 415 otherwise. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const unsupported = (what: string) => ({
    code: 415,
    message: `the body of the request was in an unknown format (${what}) - accepted media types include: application/json, application/yaml`,
  });
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC))
    throw unsupportedMediaType(unsupported('no k8s protobuf envelope'));
  const envelope = readFields(body.subarray(4));
  const typeMeta = readFields(envelope.find((f) => f.field === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = typeMeta.find((f) => f.field === 1)?.bytes?.toString('utf8') ?? '';
  const kind = typeMeta.find((f) => f.field === 2)?.bytes?.toString('utf8') ?? '';
  const schema = apiVersion === 'v1' ? KINDS[kind] : undefined;
  if (!schema) throw unsupportedMediaType(unsupported(`protobuf ${apiVersion}/${kind} is not decoded here`));
  const raw = envelope.find((f) => f.field === 2)?.bytes ?? Buffer.alloc(0);
  return { apiVersion, kind, ...decode(raw, schema) };
}

function unsupportedMediaType(e: { code: number; message: string }): ApiError {
  return new ApiError(e.code, 'UnsupportedMediaType', e.message);
}
