/** HTTP routing: discovery, OpenAPI and the REST verbs on resources, bodies in and Status errors out. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { authenticate, checkAccess, reviewAccess } from './authorization.ts';
import type { Context } from './context.ts';
import { apiVersions, groupDocument, groupList, resourceList, SERVER_VERSION } from './discovery.ts';
import { ApiError, badRequest, methodNotAllowed, notFound } from './errors.ts';
import { create, deleteNamespace } from './lifecycle.ts';
import { openApiV2, openApiV2Protobuf, openApiV3Document, openApiV3Root } from './openapi.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchType } from './patch.ts';
import {
  decodeProtobufObject,
  encodeProtobufObject,
  PROTOBUF_MEDIA_TYPE,
  prefersProtobuf,
} from './protobuf.ts';
import type { UserInfo } from './rbac.ts';
import { requestAttributes } from './request-attributes.ts';
import { type RequestRecord, requestVerb } from './request-record.ts';
import { parseResourcePath, type ResourceTarget } from './routes.ts';
import { compileFilter } from './selectors.ts';
import { type IncludeObject, toTable } from './table.ts';
import { apiVersionOf, type KubeObject, type ResourceType } from './types.ts';
import { watch } from './watch-stream.ts';

export function send(res: ServerResponse, code: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return code;
}

/**
 * An object or list response: protobuf when the client asks for it first (client-go's typed
 * clients, kubectl's typed commands) and the object fits its kind's descriptor, JSON otherwise.
 */
function sendObject(req: IncomingMessage, res: ServerResponse, code: number, body: object): number {
  const bytes = prefersProtobuf(req.headers.accept) ? encodeProtobufObject(body) : undefined;
  if (!bytes) return send(res, code, body);
  res.writeHead(code, { 'Content-Type': PROTOBUF_MEDIA_TYPE, 'Content-Length': bytes.length });
  res.end(bytes);
  return code;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024)
      throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(body: Buffer, contentType: string): unknown {
  // kubectl's typed commands (create service|namespace|secret|deployment …) send protobuf.
  // Anything else that is not JSON or YAML is 415.
  if (contentType === PROTOBUF_MEDIA_TYPE) return decodeProtobufObject(body);
  if (!/json|yaml/.test(contentType)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return contentType.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw badRequest(
      `the request body is not valid ${contentType.includes('yaml') ? 'YAML' : 'JSON'}: ${(error as Error).message}`,
    );
  }
}

function asObject(value: unknown): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('the request body must be a JSON object');
  const obj = value as KubeObject;
  obj.metadata ??= {};
  checkMetadataShape(obj.metadata);
  return obj;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the real server's JSON decoding into ObjectMeta rejects (400): wrong types for the
 * fields the storage layer relies on.
 */
function checkMetadataShape(meta: unknown): void {
  const fail = (field: string, want: string) =>
    badRequest(
      `unable to decode the object: json: cannot unmarshal ${field} into Go struct field ObjectMeta of type ${want}`,
    );
  if (!isPlainObject(meta)) throw fail('metadata', 'v1.ObjectMeta');
  for (const f of [
    'name',
    'generateName',
    'namespace',
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'deletionTimestamp',
  ]) {
    if (meta[f] !== undefined && meta[f] !== null && typeof meta[f] !== 'string')
      throw fail(`metadata.${f}`, 'string');
    if (meta[f] === null) delete meta[f];
  }
  for (const f of ['labels', 'annotations']) {
    const m = meta[f];
    if (m === undefined || m === null) {
      delete meta[f];
      continue;
    }
    if (!isPlainObject(m) || Object.values(m).some((v) => typeof v !== 'string'))
      throw fail(`metadata.${f}`, 'map[string]string');
  }
  for (const f of ['finalizers', 'ownerReferences', 'managedFields']) {
    const l = meta[f];
    if (l === undefined || l === null) {
      delete meta[f];
      continue;
    }
    if (!Array.isArray(l)) throw fail(`metadata.${f}`, 'array');
    if (f === 'finalizers' && l.some((v) => typeof v !== 'string'))
      throw fail('metadata.finalizers', '[]string');
    if (f === 'ownerReferences' && l.some((v) => !isPlainObject(v)))
      throw fail('metadata.ownerReferences', '[]v1.OwnerReference');
  }
  if (meta.generation !== undefined && typeof meta.generation !== 'number')
    throw fail('metadata.generation', 'int64');
}

/** Who is told about finished requests. */
export interface RequestHooks {
  readonly onRequest?: ((method: string, path: string, status: number) => void) | undefined;
  readonly onRequestRecord?: ((record: RequestRecord) => void) | undefined;
}

/** Serves one request; every failure becomes a Status body (a 500 only for a server bug). */
export async function handle(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: RequestHooks,
  requireToken = false,
): Promise<void> {
  const receivedMs = performance.now();
  const url = new URL(req.url ?? '/', 'http://x');
  let code = 500;
  try {
    const user = authenticate(ctx, req.headers, requireToken);
    if (user) checkAccess(ctx, user, requestAttributes(req.method ?? 'GET', url.pathname, url.searchParams));
    code = await route(ctx, req, res, url, user);
  } catch (error) {
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
    if (!res.headersSent) code = send(res, apiError.code, apiError.toStatus());
    else res.end();
  }
  const method = req.method ?? 'GET';
  hooks.onRequest?.(method, url.pathname + url.search, code);
  hooks.onRequestRecord?.({
    verb: requestVerb(method, url),
    requestURI: url.pathname + url.search,
    userAgent: req.headers['user-agent'] ?? '',
    code,
    receivedMs,
    completedMs: performance.now(),
  });
}

async function route(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  user: UserInfo | undefined,
): Promise<number> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  if (method === 'GET') {
    if (path === '/version') return send(res, 200, SERVER_VERSION);
    if (path === '/healthz' || path === '/readyz' || path === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return 200;
    }
    if (path === '/api') return send(res, 200, apiVersions(ctx.serverAddress()));
    if (path === '/apis') return send(res, 200, groupList(ctx.registry));
    if (path === '/openapi/v2') {
      if (!(req.headers.accept ?? '').includes('protobuf')) return send(res, 200, openApiV2(ctx.registry));
      const body = openApiV2Protobuf();
      res.writeHead(200, {
        'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
        'Content-Length': body.length,
      });
      res.end(body);
      return 200;
    }
    if (path === '/openapi/v3') return send(res, 200, openApiV3Root(ctx.registry));
    const oa = /^\/openapi\/v3\/(api\/v1|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (oa) {
      const doc =
        oa[1] === 'api/v1'
          ? openApiV3Document(ctx.registry, '', 'v1')
          : openApiV3Document(ctx.registry, oa[2]!, oa[3]!);
      if (doc) return send(res, 200, doc);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const gv = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (gv) {
      const group = gv[1] ? '' : gv[2]!;
      const version = gv[1] ?? gv[3]!;
      if (ctx.registry.inGroupVersion(group, version).length === 0) {
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      }
      return send(res, 200, resourceList(ctx.registry, group, version));
    }
    const g = /^\/apis\/([^/]+)$/.exec(path);
    if (g) {
      const doc = groupDocument(ctx.registry, g[1]!);
      if (doc) return send(res, 200, doc);
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
  }
  const target = parseResourcePath(path);
  const t = target && ctx.registry.lookup(target.group, target.version, target.resource);
  if (!target || !t) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  const isNamespaces = t.group === '' && t.resource === 'namespaces';
  if (
    target.subresource &&
    !(target.subresource === 'status' && t.hasStatus) &&
    !(target.subresource === 'finalize' && isNamespaces)
  ) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (!t.namespaced && target.namespace !== undefined) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  return resourceRequest(ctx, t, target, method, req, res, url, user);
}

/** The filter of a list, watch or collection delete: its label selector and `fieldSelector`. */
function selectorsOf(
  q: URLSearchParams,
  t: ResourceType,
  fieldSelector = q.get('fieldSelector') ?? undefined,
) {
  return compileFilter(q.get('labelSelector') ?? undefined, fieldSelector, t.fieldSelectors, t.kind);
}

async function resourceRequest(
  ctx: Context,
  t: ResourceType,
  target: ResourceTarget,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  user: UserInfo | undefined,
): Promise<number> {
  const q = url.searchParams;
  const ns = t.namespaced ? target.namespace : undefined;
  const accept = req.headers.accept ?? '';
  const asTable = /as=Table/.test(accept);
  const include = (q.get('includeObject') ?? 'Metadata') as IncludeObject;
  if (!['None', 'Metadata', 'Object'].includes(include)) {
    throw badRequest(`includeObject must be None, Metadata or Object, not "${include}"`);
  }
  const dryRun = q.getAll('dryRun').includes('All');
  const strict = q.get('fieldValidation') === 'Strict';
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  const name = target.name;
  const sub = target.subresource === 'status' ? ('status' as const) : undefined;
  const now = Date.now();
  // PUT and PATCH end alike: the object replaces the stored one (only its status on /status).
  const sendUpdated = (objectName: string, obj: KubeObject): number =>
    sendObject(
      req,
      res,
      200,
      ctx.store.update(t, ns, objectName, obj, { dryRun, strict, ...(sub ? { subresource: sub } : {}) }),
    );

  if (method === 'GET' && (target.watchPath || q.get('watch') === 'true' || q.get('watch') === '1')) {
    const fields = q.get('fieldSelector');
    const filter = selectorsOf(
      q,
      t,
      name ? `metadata.name=${name}${fields ? `,${fields}` : ''}` : (fields ?? undefined),
    );
    return watch(ctx, t, ns, filter, q, res, asTable ? include : undefined);
  }
  if (method === 'GET' && !name) {
    const filter = selectorsOf(q, t);
    const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
    const list = ctx.store.list(
      t,
      ns,
      filter,
      limit,
      q.get('continue') ?? undefined,
      (rv) => rv < ctx.store.hub.oldestKept(),
    );
    const meta = {
      resourceVersion: list.resourceVersion,
      ...(list.continue ? { continue: list.continue, remainingItemCount: list.remainingItemCount } : {}),
    };
    if (asTable) return send(res, 200, toTable(t, list.items, meta, include, now));
    return sendObject(req, res, 200, {
      kind: t.listKind,
      apiVersion: apiVersionOf(t),
      metadata: meta,
      items: list.items,
    });
  }
  if (method === 'GET' && name) {
    const obj = ctx.store.get(t, ns, name);
    if (asTable)
      return send(
        res,
        200,
        toTable(t, [obj], { resourceVersion: obj.metadata.resourceVersion }, include, now),
      );
    return sendObject(req, res, 200, obj);
  }
  if (method === 'POST' && !name && t.group === 'authorization.k8s.io') {
    // kubectl sends the review as protobuf; an administrator's answer does not depend on it,
    // and JSON is a response format every client decodes. A ServiceAccount's review (JSON)
    // gets RBAC's answer.
    const text = await readBody(req);
    const review = /json|yaml/.test(contentType) ? asObject(parseBody(text, contentType)) : { metadata: {} };
    return send(res, 201, {
      ...review,
      apiVersion: apiVersionOf(t),
      kind: t.kind,
      status: user
        ? reviewAccess(ctx, user, (review as { spec?: unknown }).spec)
        : { allowed: true, reason: 'no credentials: the administrator may do everything' },
    });
  }
  if (method === 'POST' && !name) {
    if (t.namespaced && ns === undefined)
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const obj = asObject(parseBody(await readBody(req), contentType));
    return sendObject(req, res, 201, create(ctx, t, ns, obj, { dryRun, strict }));
  }
  if (method === 'PUT' && name) {
    const obj = asObject(parseBody(await readBody(req), contentType));
    if (t.group === '' && t.resource === 'namespaces' && target.subresource === 'finalize') {
      return sendObject(req, res, 200, ctx.store.update(t, undefined, name, obj, { dryRun }));
    }
    return sendUpdated(name, obj);
  }
  if (method === 'PATCH' && name) {
    const patch = parseBody(await readBody(req), contentType);
    const existing = ctx.store.peek(t, ns, name);
    if (!existing) {
      if (contentType === PatchType.Apply) {
        return sendObject(req, res, 201, create(ctx, t, ns, asObject(patch), { dryRun, strict }));
      }
      throw notFound(t.group, t.resource, name, t.kind);
    }
    const current = ctx.store.get(t, ns, name);
    let patched: unknown;
    switch (contentType) {
      case PatchType.Merge:
      case PatchType.Apply:
        patched = applyMergePatch(current, patch);
        break;
      case PatchType.Json:
        patched = applyJsonPatch(current, patch);
        break;
      case PatchType.Strategic:
        if (t.custom) {
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        }
        patched = applyStrategicMergePatch(current, patch, t.kind);
        break;
      default:
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        );
    }
    const obj = asObject(patched);
    // A patch applies to the version it read unless it sets metadata.resourceVersion itself,
    // which then is a precondition (409 when stale), as on the real server.
    if (contentType === PatchType.Apply || obj.metadata.resourceVersion === undefined) {
      obj.metadata.resourceVersion = current.metadata.resourceVersion;
    }
    return sendUpdated(name, obj);
  }
  if (method === 'DELETE' && name) {
    // DeleteOptions in JSON (typed clients may send protobuf ones; their defaults are ours).
    const text = /json/.test(contentType) ? (await readBody(req)).toString('utf8') : '';
    let parsedOptions: unknown = {};
    if (text.trim()) {
      try {
        parsedOptions = JSON.parse(text);
      } catch {
        throw badRequest('the DeleteOptions body is not valid JSON');
      }
    }
    const options = isPlainObject(parsedOptions)
      ? (parsedOptions as { preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] })
      : {};
    const dry = dryRun || (Array.isArray(options.dryRun) && options.dryRun.includes('All'));
    if (t.group === '' && t.resource === 'namespaces') return send(res, 200, deleteNamespace(ctx, name, dry));
    const { object } = ctx.store.delete(t, ns, name, {
      dryRun: dry,
      ...(options.preconditions ? { preconditions: options.preconditions } : {}),
    });
    return sendObject(req, res, 200, object);
  }
  if (method === 'DELETE' && !name) {
    const filter = selectorsOf(q, t);
    const list = ctx.store.list(t, ns, filter, undefined, undefined, () => false);
    for (const obj of list.items) ctx.store.delete(t, obj.metadata.namespace, obj.metadata.name!, { dryRun });
    return send(res, 200, {
      kind: t.listKind,
      apiVersion: apiVersionOf(t),
      metadata: { resourceVersion: String(ctx.store.resourceVersion) },
      items: list.items,
    });
  }
  throw methodNotAllowed('the server does not allow this method on the requested resource');
}
