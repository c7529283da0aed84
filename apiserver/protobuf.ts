/**
 * The Kubernetes protobuf media type (`application/vnd.kubernetes.protobuf`) for the built-in
 * kinds: the `k8s\0` magic, then a runtime.Unknown whose typeMeta names the kind and whose raw
 * bytes are the kind's generated message. Request bodies are decoded by the descriptors in
 * `protobuf/kinds-*.ts`; responses are encoded when the client lists protobuf first and the
 * object fits its descriptor (otherwise JSON, which every client also accepts).
 *
 * Bodies are untrusted: anything malformed is a 400 naming the field and the problem, valid
 * protobuf this server cannot represent (an unknown kind or field) is a 415 naming it.
 */
import { ApiError, badRequest } from './errors.ts';
import {
  decodeMessage,
  encodeMessage,
  type MessageSpec,
  message,
  NotEncodableError,
  ProtobufError,
} from './protobuf/codec.ts';
import * as apis from './protobuf/kinds-apis.ts';
import * as core from './protobuf/kinds-core.ts';
import { TypeMeta } from './protobuf/kinds-meta.ts';
import * as pod from './protobuf/kinds-pod.ts';
import { readFields, WireError, WireType, WireWriter } from './protobuf/wire.ts';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from('k8s\0', 'latin1');

/** apiVersion/kind → descriptor of the kind's message */
const KINDS: ReadonlyMap<string, MessageSpec> = new Map([
  ['v1/Service', core.Service],
  ['v1/Namespace', core.Namespace],
  ['v1/ConfigMap', core.ConfigMap],
  ['v1/Secret', core.Secret],
  ['v1/ServiceAccount', core.ServiceAccount],
  ['v1/Endpoints', core.Endpoints],
  ['v1/Node', core.Node],
  ['v1/Event', core.Event],
  ['v1/Pod', pod.Pod],
  ['apps/v1/Deployment', apis.Deployment],
  ['apps/v1/DaemonSet', apis.DaemonSet],
  ['batch/v1/Job', apis.Job],
  ['rbac.authorization.k8s.io/v1/Role', apis.Role],
  ['rbac.authorization.k8s.io/v1/ClusterRole', apis.ClusterRole],
  ['rbac.authorization.k8s.io/v1/RoleBinding', apis.RoleBinding],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', apis.ClusterRoleBinding],
  ['policy/v1/PodDisruptionBudget', apis.PodDisruptionBudget],
  ['coordination.k8s.io/v1/Lease', apis.Lease],
  ['discovery.k8s.io/v1/EndpointSlice', apis.EndpointSlice],
  ['events.k8s.io/v1/Event', apis.EventsV1Event],
]);

const ListMeta = message('k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta', {
  1: ['selfLink', 'string'],
  2: ['resourceVersion', 'string'],
  3: ['continue', 'string'],
  4: ['remainingItemCount', 'int64', 'ptr'],
});

/** Every `<Kind>List` is ListMeta (1) plus the items (2). */
function listOf(item: MessageSpec): MessageSpec {
  return message(`${item.proto}List`, { 1: ['metadata', ListMeta], 2: ['items', item, 'list'] });
}
const LISTS: ReadonlyMap<string, MessageSpec> = new Map(
  [...KINDS].map(([key, spec]) => [`${key}List`, listOf(spec)]),
);

/** Whether the protobuf decoder knows `apiVersion`/`kind` (for tests and docs). */
export function protobufKinds(): string[] {
  return [...KINDS.keys()];
}

function unsupported(what: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${what}) - accepted media types include: application/json, application/yaml`,
  );
}

/** Decodes a protobuf request body into the object's JSON form; 400 when malformed, 415 when not representable. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC))
    throw unsupported('no k8s protobuf envelope: the body does not start with "k8s\\0"');
  let kindLabel = 'envelope';
  try {
    // runtime.Unknown: typeMeta (1), raw (2), contentEncoding (3), contentType (4).
    let fields: ReturnType<typeof readFields>;
    try {
      fields = readFields(body.subarray(MAGIC.length), MAGIC.length);
    } catch (error) {
      if (error instanceof WireError) throw new ProtobufError(`envelope: ${error.message}`);
      throw error;
    }
    const part = (n: number) => {
      const f = fields.findLast((x) => x.field === n);
      if (f && f.wire !== WireType.LengthDelimited)
        throw new ProtobufError(`envelope field ${n}: wire type ${f.wire}`);
      return f?.value as Buffer | undefined;
    };
    const typeMeta = decodeMessage(part(1) ?? Buffer.alloc(0), TypeMeta, 'typeMeta');
    const apiVersion = String(typeMeta.apiVersion ?? '');
    const kind = String(typeMeta.kind ?? '');
    kindLabel = `${apiVersion}/${kind}`;
    const encoding = part(3)?.toString('utf8');
    if (encoding) throw unsupported(`protobuf content encoding "${encoding}"`);
    const spec = KINDS.get(kindLabel);
    if (!spec) throw unsupported(`protobuf ${kindLabel} is not decoded here`);
    return { apiVersion, kind, ...decodeMessage(part(2) ?? Buffer.alloc(0), spec) };
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    if (error.unsupported) throw unsupported(`protobuf ${kindLabel}: ${error.message}; send it as JSON`);
    throw badRequest(`invalid protobuf body (${kindLabel}): ${error.message}`);
  }
}

/**
 * Encodes an object or a list of a known kind; undefined when the kind has no descriptor or
 * the object holds something its descriptor cannot express (the caller then answers in JSON).
 */
export function encodeProtobufObject(obj: object): Buffer | undefined {
  const { apiVersion, kind, ...rest } = obj as Record<string, unknown>;
  const key = `${String(apiVersion)}/${String(kind)}`;
  const spec = KINDS.get(key) ?? LISTS.get(key);
  if (!spec) return undefined;
  try {
    const envelope = new WireWriter();
    envelope.writeBytes(1, encodeMessage({ apiVersion, kind }, TypeMeta));
    envelope.writeBytes(2, encodeMessage(rest, spec));
    return Buffer.concat([MAGIC, envelope.finish()]);
  } catch (error) {
    if (error instanceof NotEncodableError) return undefined;
    throw error;
  }
}

/** Whether an Accept header puts the protobuf media type first (as client-go's typed clients do). */
export function prefersProtobuf(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0]!.trim();
  return first === PROTOBUF_MEDIA_TYPE;
}
