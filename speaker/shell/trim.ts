import { Annotations } from '../../shared/api/names.ts';
import type { SecretLike } from '../../shared/api/resources.ts';
import type { ObjectMeta } from '../../shared/k8s/informer.ts';
import type { CachedObject } from './objects.ts';

/**
 * What the speaker's informers keep of each object, and the trims that reduce an object to it
 * before it is cached. The types are the check: the speaker reads cached objects only through
 * them, so a field it would read but the trim drops does not compile. Every cache keeps the
 * identity (name, namespace, uid, resourceVersion, which the informer compares) and the labels;
 * managedFields, annotations (bar the one the speaker reads), ownerReferences, timestamps and
 * whatever spec and status the speaker never reads are dropped.
 */

/** The metadata every cache keeps. */
export interface CachedMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
}

/** A Service: what facts.ts reads (type, class, traffic policy, ingress IPs, the pool annotation). */
export interface CachedService {
  metadata?: CachedMeta & { annotations?: Record<string, string> };
  spec?: { type?: string; loadBalancerClass?: string; externalTrafficPolicy?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

/** An EndpointSlice: its Service label and where its endpoints are, in which condition. */
export interface CachedEndpointSlice {
  metadata?: CachedMeta;
  endpoints?: {
    nodeName?: string;
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  }[];
}

/** A Node: labels, the condition types and statuses (NetworkUnavailable), its addresses. */
export interface CachedNode {
  metadata?: CachedMeta;
  status?: {
    conditions?: { type: string; status: string }[];
    addresses?: { type: string; address: string }[];
  };
}

/** A speaker Pod: where it runs, its phase and IPs (membership peers, node addresses). */
export interface CachedPod {
  metadata?: CachedMeta;
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[] };
}

/** One of our configuration CRs: its metadata and spec (what shared/config reads); no status. */
interface ConfigResource {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta | Readonly<ObjectMeta>;
  readonly spec?: unknown;
}

function meta(metadata: ObjectMeta | undefined): CachedMeta {
  const kept: CachedMeta = {};
  if (metadata?.name !== undefined) kept.name = metadata.name;
  if (metadata?.namespace !== undefined) kept.namespace = metadata.namespace;
  if (metadata?.uid !== undefined) kept.uid = metadata.uid;
  if (metadata?.resourceVersion !== undefined) kept.resourceVersion = metadata.resourceVersion;
  if (metadata?.labels) kept.labels = metadata.labels;
  return kept;
}

/** Copies the fields of `from` named in `keys` that are set. */
function pick<T extends object, K extends keyof T>(from: T | undefined, keys: readonly K[]): Pick<T, K> {
  const kept = {} as Pick<T, K>;
  if (!from) return kept;
  for (const key of keys) if (from[key] !== undefined && from[key] !== null) kept[key] = from[key];
  return kept;
}

export function trimService(service: CachedService): CachedService {
  const metadata: CachedService['metadata'] = meta(service.metadata);
  const pool = service.metadata?.annotations?.[Annotations.IpAllocatedFromPool];
  if (pool !== undefined) metadata.annotations = { [Annotations.IpAllocatedFromPool]: pool };
  const trimmed: CachedService = {
    metadata,
    spec: pick(service.spec, ['type', 'loadBalancerClass', 'externalTrafficPolicy']),
  };
  const ingress = service.status?.loadBalancer?.ingress;
  if (ingress) trimmed.status = { loadBalancer: { ingress: ingress.map((i) => pick(i, ['ip'])) } };
  return trimmed;
}

export function trimEndpointSlice(slice: CachedEndpointSlice): CachedEndpointSlice {
  const trimmed: CachedEndpointSlice = { metadata: meta(slice.metadata) };
  if (slice.endpoints) {
    trimmed.endpoints = slice.endpoints.map((e) => {
      const endpoint: NonNullable<CachedEndpointSlice['endpoints']>[number] = pick(e, ['nodeName']);
      if (e.conditions) endpoint.conditions = pick(e.conditions, ['ready', 'serving', 'terminating']);
      return endpoint;
    });
  }
  return trimmed;
}

export function trimNode(node: CachedNode): CachedNode {
  const status: NonNullable<CachedNode['status']> = {};
  if (node.status?.conditions)
    status.conditions = node.status.conditions.map((c) => pick(c, ['type', 'status']));
  if (node.status?.addresses)
    status.addresses = node.status.addresses.map((a) => pick(a, ['type', 'address']));
  return { metadata: meta(node.metadata), status };
}

export function trimPod(pod: CachedPod): CachedPod {
  const status: NonNullable<CachedPod['status']> = pick(pod.status, ['phase', 'podIP']);
  if (pod.status?.podIPs) status.podIPs = pod.status.podIPs.map((i) => pick(i, ['ip']));
  return { metadata: meta(pod.metadata), spec: pick(pod.spec, ['nodeName']), status };
}

/**
 * A BGP password Secret: its name, type and `password` key only (not the other keys, not the
 * annotations, where kubectl keeps a copy of the data); the namespace is the one it was read in.
 */
export function trimPasswordSecret(secret: SecretLike, namespace: string): SecretLike {
  const password = (from: Readonly<Record<string, string>> | undefined) =>
    from?.password === undefined ? undefined : { password: from.password };
  const data = password(secret.data);
  const stringData = password(secret.stringData);
  return {
    metadata: { name: secret.metadata.name, namespace },
    ...(secret.type === undefined ? {} : { type: secret.type }),
    ...(data ? { data } : {}),
    ...(stringData ? { stringData } : {}),
  };
}

/** IPAddressPool, L2Advertisement, ...: the controller's status (pool usage) is not read here. */
export function trimConfigResource<T extends ConfigResource>(object: T): T {
  return { ...pick(object, ['apiVersion', 'kind', 'spec']), metadata: meta(object.metadata) } as T;
}

/** This node's status objects: labels and status, what StatusObjects.put compares. */
export function trimStatusObject(object: CachedObject): CachedObject {
  return { ...pick(object, ['apiVersion', 'kind', 'status']), metadata: meta(object.metadata) };
}
