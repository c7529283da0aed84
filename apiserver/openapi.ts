import type { TypeRegistry } from './registry.ts';
import type { ResourceType } from './types.ts';

/**
 * OpenAPI documents, as much as kubectl uses: /openapi/v3 lists one document per group
 * version; each names its kinds (x-kubernetes-group-version-kind) and declares that PATCH
 * accepts `fieldValidation`, so kubectl leaves validation to the server (which enforces the
 * CRD schemas). CRD kinds carry their real schema (for `kubectl explain`); built-in kinds are
 * open objects, and their PATCH does not advertise strategic merge, so kubectl apply computes
 * strategic patches from its compiled-in types, as it does against older servers.
 */

const gvPath = (group: string, version: string) =>
  group === '' ? `api/${version}` : `apis/${group}/${version}`;

function schemaName(t: ResourceType): string {
  const reversed = t.group === '' ? 'io.k8s.api.core' : t.group.split('.').reverse().join('.');
  return `${reversed}.${t.version}.${t.kind}`;
}

function kindSchema(t: ResourceType): Record<string, unknown> {
  const gvk = [{ group: t.group, version: t.version, kind: t.kind }];
  const base = t.openApiSchema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return { ...structuredClone(base), 'x-kubernetes-group-version-kind': gvk };
}

function operations(t: ResourceType, itemPath: boolean) {
  const gvk = { group: t.group, version: t.version, kind: t.kind };
  const json = { 'application/json': { schema: { $ref: `#/components/schemas/${schemaName(t)}` } } };
  const fieldValidation = {
    name: 'fieldValidation',
    in: 'query',
    description:
      'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
    schema: { type: 'string', uniqueItems: true },
  };
  const op = (action: string, extra: Record<string, unknown> = {}) => ({
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    responses: { '200': { description: 'OK', content: json } },
    ...extra,
  });
  if (!itemPath)
    return {
      post: op('post', { parameters: [fieldValidation], requestBody: { content: json } }),
      get: op('list'),
    };
  const patchTypes = t.custom
    ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']
    : ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  return {
    get: op('get'),
    put: op('put', { parameters: [fieldValidation], requestBody: { content: json } }),
    patch: op('patch', {
      parameters: [fieldValidation],
      requestBody: {
        content: Object.fromEntries(patchTypes.map((p) => [p, { schema: { type: 'object' } }])),
      },
    }),
    delete: op('delete'),
  };
}

/** The /openapi/v3 index: group version → document URL. */
export function openApiV3Root(registry: TypeRegistry) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, versions } of registry.groups()) {
    for (const version of versions) {
      const p = gvPath(group, version);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(registry, group, version)}` };
    }
  }
  return { paths };
}

/** Changes when a group version's types change, so kubectl's cache notices new CRD versions. */
function hashOf(registry: TypeRegistry, group: string, version: string): string {
  const text = JSON.stringify(
    registry.inGroupVersion(group, version).map((t) => [t.kind, t.openApiSchema ?? null]),
  );
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).toUpperCase().padStart(8, '0');
}

/** One group version's OpenAPI 3.0 document. */
export function openApiV3Document(registry: TypeRegistry, group: string, version: string) {
  const types = registry.inGroupVersion(group, version);
  if (types.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const prefix = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.resource}`;
    paths[prefix] = operations(t, false);
    paths[`${prefix}/{name}`] = operations(t, true);
    schemas[schemaName(t)] = kindSchema(t);
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths,
    components: { schemas },
  };
}

/** A Swagger 2.0 document with the kinds only (older clients fetch it; nothing relies on it). */
export function openApiV2(registry: TypeRegistry) {
  const definitions: Record<string, unknown> = {};
  for (const t of registry.all()) definitions[schemaName(t)] = kindSchema(t);
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths: {},
    definitions,
  };
}

/** Protobuf length-delimited field (wire type 2). */
function field(number: number, payload: Buffer): Buffer {
  if (payload.length > 127) throw new Error('openapi v2 field too long for the one-byte length used here');
  return Buffer.concat([Buffer.from([(number << 3) | 2, payload.length]), payload]);
}

/**
 * The Swagger 2.0 document kubectl reads as protobuf (gnostic openapi_v2.Document) for
 * client-side validation when a kind is missing from its cached /openapi/v3 index, e.g. custom
 * resources applied in the same command as their CRDs. It declares no definitions, so kubectl
 * skips client-side validation and the server validates (as it does anyway).
 * Document{swagger=1, info=2 {title=1, version=2}, paths=8}.
 */
export function openApiV2Protobuf(): Buffer {
  return Buffer.concat([
    field(1, Buffer.from('2.0')),
    field(2, Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from('v1.34.0'))])),
    field(8, Buffer.alloc(0)),
  ]);
}
