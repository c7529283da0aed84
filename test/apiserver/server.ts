import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { builtinTypes } from './builtins.ts';
import { crdStatus, typesFromCrd, validateCrd } from './crd.ts';
import {
  AllocationIndex,
  defaultService,
  defaultServiceNetwork,
  type ServiceNetwork,
  type ServiceSpec,
} from './defaulting.ts';
import { apiVersions, groupDocument, groupList, resourceList, SERVER_VERSION } from './discovery.ts';
import { ApiError, badRequest, methodNotAllowed, notFound } from './errors.ts';
import { openApiV2, openApiV2Protobuf, openApiV3Document, openApiV3Root } from './openapi.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchType } from './patch.ts';
import { TypeRegistry } from './registry.ts';
import { parseResourcePath, type ResourceTarget } from './routes.ts';
import { compileFilter } from './selectors.ts';
import { ObjectStore } from './store.ts';
import { columnDefinitions, type IncludeObject, tableRow, toTable } from './table.ts';
import { apiVersionOf, type KubeObject, type ResourceType, storageKey } from './types.ts';

/** Options of the embedded API server. */
export interface ApiServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Serve dual-stack Services (IPv4 primary, IPv6 secondary); default single-stack IPv4. */
  dualStack?: boolean;
  /** How many changes the watch history keeps before older watches get 410 Gone. */
  historyLimit?: number;
  /** Interval of BOOKMARK events for watches that allow them (the real server: about a minute). */
  bookmarkIntervalMs?: number;
  /** Called for each request (method, path, status) — the CLI logs through it. */
  onRequest?: (method: string, path: string, status: number) => void;
}

/** A running server and the fault hooks tests use. */
export interface ApiServerHandle {
  url: string;
  host: string;
  port: number;
  /** A kubeconfig for this server (plain HTTP on loopback, no credentials). */
  kubeconfigYaml: string;
  writeKubeconfig(file: string): void;
  /** Creates or updates objects from parsed manifests (CRDs first), as `kubectl apply` would. */
  applyObjects(objects: KubeObject[]): KubeObject[];
  /** Deletes one object synchronously (fault tests change state between two client requests). */
  deleteObject(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Ends every open watch stream; clients re-watch from their last resourceVersion. */
  cutWatches(): void;
  /** Drops the watch history so every resumed watch gets 410 Gone and must relist. */
  compactHistory(): void;
  /** The current global resourceVersion. */
  resourceVersion(): number;
  /**
   * Stops listening (dropping every connection and watch) for `downMs`, then serves the same
   * data again. Like a real kube-apiserver, whose watch cache starts empty after a restart,
   * the watch history is lost unless `keepWatchHistory`: resumed watches then get 410 Gone.
   */
  restart(options?: number | { downMs?: number; keepWatchHistory?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

interface Context {
  registry: TypeRegistry;
  store: ObjectStore;
  network: ServiceNetwork;
  allocations: AllocationIndex;
  owners: OwnerIndex;
  bookmarkIntervalMs: number;
  serverAddress: () => string;
}

/** Starts the embedded Kubernetes API server. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const registry = new TypeRegistry(builtinTypes());
  const store = new ObjectStore({ historyLimit: options.historyLimit ?? 1000 });
  const ctx: Context = {
    registry,
    store,
    network: defaultServiceNetwork(options.dualStack ?? false),
    allocations: new AllocationIndex(),
    owners: new OwnerIndex(),
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    serverAddress: () => `${host}:${port}`,
  };
  installHooks(ctx);
  const nsType = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    store.create(nsType, undefined, {
      metadata: { name },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  let server: Server = createServer((req, res) => handle(ctx, req, res, options.onRequest));
  let port = await listen(server, host, options.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfigYaml = kubeconfigFor(url);

  const handle_: ApiServerHandle = {
    url,
    host,
    port,
    kubeconfigYaml,
    writeKubeconfig: (file) => writeFileSync(file, kubeconfigYaml, { mode: 0o600 }),
    applyObjects: (objects) => applyObjects(ctx, objects),
    deleteObject(apiVersion, kind, namespace, name) {
      const t = registry.byKind(apiVersion, kind);
      if (!t) throw badRequest(`no matches for kind "${kind}" in version "${apiVersion}"`);
      store.delete(t, t.namespaced ? namespace : undefined, name);
    },
    cutWatches: () => store.hub.cutAll(),
    compactHistory: () => store.hub.compact(store.resourceVersion),
    resourceVersion: () => store.resourceVersion,
    async restart(how = {}) {
      // A bare number is the down time (the first form of this hook; tests use both).
      const { downMs = 0, keepWatchHistory = false } = typeof how === 'number' ? { downMs: how } : how;
      store.hub.cutAll();
      await close(server);
      if (!keepWatchHistory) store.hub.compact(store.resourceVersion);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      server = createServer((req, res) => handle(ctx, req, res, options.onRequest));
      port = await listen(server, host, port);
    },
    stop: () => close(server),
  };
  return handle_;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function kubeconfigFor(url: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: metalbeacon',
    '  cluster:',
    `    server: ${url}`,
    // Plain HTTP on loopback: @kubernetes/client-node refuses http:// unless TLS checks are
    // off, and kubectl ignores the flag for http.
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: metalbeacon',
    '  user: {}',
    'contexts:',
    '- name: metalbeacon',
    '  context:',
    '    cluster: metalbeacon',
    '    user: metalbeacon',
    '    namespace: default',
    'current-context: metalbeacon',
    '',
  ].join('\n');
}

/** Per-type behaviour plugged into generic storage: Service allocation, CRDs, namespaces. */
function installHooks(ctx: Context): void {
  const { registry, store } = ctx;
  store.hooks = {
    admit(t, obj, old) {
      if (t.group === '' && t.resource === 'services') {
        defaultService(obj, old, ctx.network, ctx.allocations.viewFor(obj.metadata.uid));
      }
      if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') {
        validateCrd(obj);
        typesFromCrd(obj); // compiles the schemas: a broken schema fails the write
        obj.status = crdStatus(obj, obj.metadata.creationTimestamp ?? new Date().toISOString());
      }
      if (t.group === '' && t.resource === 'namespaces') {
        obj.status = {
          ...(obj.status as Record<string, unknown> | undefined),
          phase: obj.metadata.deletionTimestamp ? 'Terminating' : 'Active',
        };
      }
    },
    committed(t, type, obj) {
      const uid = obj.metadata.uid ?? '';
      if (t.group === '' && t.resource === 'services') {
        if (type === 'DELETED') ctx.allocations.release(uid);
        else ctx.allocations.record(uid, (obj as { spec?: ServiceSpec }).spec);
      }
      const ref = { key: storageKey(t), namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' };
      if (type === 'DELETED') ctx.owners.forget(uid);
      else ctx.owners.record(uid, ref, (obj.metadata.ownerReferences ?? []) as { uid?: string }[]);
      if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') {
        const spec = obj.spec as { group: string; names: { plural: string } };
        const previous = registry.anyVersion(`${spec.group}/${spec.names.plural}`);
        if (type === 'DELETED') {
          if (previous) store.dropAll(previous);
          registry.remove(spec.group, spec.names.plural);
        } else {
          registry.remove(spec.group, spec.names.plural);
          for (const nt of typesFromCrd(obj)) registry.add(nt);
        }
      }
      if (type === 'DELETED') collectGarbage(ctx, uid);
      if (type === 'DELETED' && obj.metadata.namespace) finishNamespace(ctx, obj.metadata.namespace);
    },
  };
}

/**
 * The garbage collector, background propagation: once an owner is gone, dependents whose
 * every ownerReference points at a missing object are deleted (finalizers still apply).
 * The controller relies on this for objects it owns (e.g. status objects of a Service).
 */
function collectGarbage(ctx: Context, deletedUid: string): void {
  for (const dep of ctx.owners.orphansOf(deletedUid)) {
    const t = ctx.registry.anyVersion(dep.key);
    const obj = t && ctx.store.peek(t, dep.namespace, dep.name);
    if (t && obj && !obj.metadata.deletionTimestamp) ctx.store.delete(t, dep.namespace, dep.name);
  }
}

interface ObjectRef {
  key: string;
  namespace: string | undefined;
  name: string;
}

/** Live objects and their owner edges, kept from committed writes for the garbage collector. */
class OwnerIndex {
  /** uid → where the object is stored */
  private readonly live = new Map<string, ObjectRef>();
  /** dependent uid → owner uids */
  private readonly ownersOf = new Map<string, string[]>();
  /** owner uid → dependent uids */
  private readonly dependents = new Map<string, Set<string>>();

  record(uid: string, ref: ObjectRef, ownerReferences: { uid?: string }[]): void {
    this.live.set(uid, ref);
    this.unlink(uid);
    const owners = ownerReferences.map((r) => r.uid).filter((u): u is string => !!u);
    if (owners.length === 0) return;
    this.ownersOf.set(uid, owners);
    for (const owner of owners) {
      let set = this.dependents.get(owner);
      if (!set) {
        set = new Set();
        this.dependents.set(owner, set);
      }
      set.add(uid);
    }
  }

  forget(uid: string): void {
    this.live.delete(uid);
    this.unlink(uid);
  }

  /** Dependents of a deleted owner whose owners are now all gone. */
  orphansOf(ownerUid: string): ObjectRef[] {
    const found: ObjectRef[] = [];
    for (const dep of this.dependents.get(ownerUid) ?? []) {
      const owners = this.ownersOf.get(dep) ?? [];
      const ref = this.live.get(dep);
      if (ref && owners.every((o) => !this.live.has(o))) found.push(ref);
    }
    return found;
  }

  private unlink(uid: string): void {
    for (const owner of this.ownersOf.get(uid) ?? []) this.dependents.get(owner)?.delete(uid);
    this.ownersOf.delete(uid);
  }
}

/** A terminating namespace goes away once its last object is gone (the namespace controller). */
function finishNamespace(ctx: Context, namespace: string): void {
  const nsType = ctx.registry.lookup('', 'v1', 'namespaces')!;
  const ns = ctx.store.peek(nsType, undefined, namespace);
  if (!ns?.metadata.deletionTimestamp) return;
  if (ctx.store.namespaceContents(namespace).length > 0) return;
  ctx.store.update(nsType, undefined, namespace, {
    ...structuredClone(ns),
    metadata: { ...structuredClone(ns.metadata), finalizers: [] },
  });
  const still = ctx.store.peek(nsType, undefined, namespace);
  if (still) ctx.store.delete(nsType, undefined, namespace);
}

/** Namespace deletion: mark Terminating, delete the contents, then the namespace itself. */
function deleteNamespace(ctx: Context, name: string, dryRun: boolean): KubeObject {
  const nsType = ctx.registry.lookup('', 'v1', 'namespaces')!;
  const ns = ctx.store.peek(nsType, undefined, name);
  if (!ns) throw notFound('', 'namespaces', name, 'Namespace');
  if (dryRun) return ctx.store.get(nsType, undefined, name);
  if (!ns.metadata.deletionTimestamp) {
    const marked = structuredClone(ns);
    marked.metadata.finalizers = [...(marked.metadata.finalizers ?? []), 'kubernetes'];
    ctx.store.update(nsType, undefined, name, marked);
    ctx.store.delete(nsType, undefined, name);
    // Re-admit through /status so the phase follows the deletionTimestamp (Terminating).
    const deleting = ctx.store.peek(nsType, undefined, name)!;
    ctx.store.update(nsType, undefined, name, structuredClone(deleting), { subresource: 'status' });
  }
  for (const { key, obj } of ctx.store.namespaceContents(name)) {
    const t = ctx.registry.anyVersion(key);
    if (t && !obj.metadata.deletionTimestamp) ctx.store.delete(t, name, obj.metadata.name!);
  }
  finishNamespace(ctx, name);
  const after = ctx.store.peek(nsType, undefined, name);
  return after
    ? ctx.store.get(nsType, undefined, name)
    : { ...structuredClone(ns), apiVersion: 'v1', kind: 'Namespace' };
}

/** Creates or replaces objects (CRDs first so their kinds resolve), as a simple `kubectl apply`. */
function applyObjects(ctx: Context, objects: KubeObject[]): KubeObject[] {
  const sorted = [...objects].sort(
    (a, b) => Number(b.kind === 'CustomResourceDefinition') - Number(a.kind === 'CustomResourceDefinition'),
  );
  return sorted.map((obj) => {
    const t = ctx.registry.byKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!t) {
      throw badRequest(
        `no matches for kind "${obj.kind}" in version "${obj.apiVersion}" (${obj.metadata?.name ?? 'unnamed'})`,
      );
    }
    const ns = t.namespaced ? (obj.metadata.namespace ?? 'default') : undefined;
    const existing = ctx.store.peek(t, ns, obj.metadata.name ?? '');
    if (!existing) return create(ctx, t, ns, obj, {});
    const next = structuredClone(obj);
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    const updated = ctx.store.update(t, ns, obj.metadata.name!, next);
    if (t.hasStatus && obj.status !== undefined) {
      return ctx.store.update(
        t,
        ns,
        obj.metadata.name!,
        { ...updated, status: obj.status },
        { subresource: 'status' },
      );
    }
    return updated;
  });
}

/** Create with the namespace checks of the real server's admission (NamespaceLifecycle). */
function create(
  ctx: Context,
  t: ResourceType,
  namespace: string | undefined,
  obj: KubeObject,
  opts: { dryRun?: boolean; strict?: boolean },
): KubeObject {
  if (t.namespaced) {
    const ns = namespace ?? obj.metadata?.namespace;
    if (!ns) throw badRequest('the namespace of the object is required for a namespaced resource');
    const nsObj = ctx.store.peek(ctx.registry.lookup('', 'v1', 'namespaces')!, undefined, ns);
    if (!nsObj) throw notFound('', 'namespaces', ns, 'Namespace');
    if (nsObj.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${t.resource}${t.group ? `.${t.group}` : ''} "${obj.metadata?.name ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
    return ctx.store.create(t, ns, obj, opts);
  }
  return ctx.store.create(t, undefined, obj, opts);
}

function send(res: ServerResponse, code: number, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return code;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 3 * 1024 * 1024)
      throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string): unknown {
  // Only JSON and YAML are spoken; 415 makes client-go fall back from protobuf/CBOR to JSON.
  if (!/json|yaml/.test(contentType)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    );
  }
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

async function handle(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  onRequest: ApiServerOptions['onRequest'],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  let code = 500;
  try {
    code = await route(ctx, req, res, url);
  } catch (error) {
    const apiError =
      error instanceof ApiError
        ? error
        : new ApiError(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`);
    if (!res.headersSent) code = send(res, apiError.code, apiError.toStatus());
    else res.end();
  }
  onRequest?.(req.method ?? 'GET', url.pathname + url.search, code);
}

async function route(ctx: Context, req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
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
  if (
    target.subresource &&
    !(target.subresource === 'status' && t.hasStatus) &&
    target.subresource !== 'finalize'
  ) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (!t.namespaced && target.namespace !== undefined) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  return resourceRequest(ctx, t, target, method, req, res, url);
}

async function resourceRequest(
  ctx: Context,
  t: ResourceType,
  target: ResourceTarget,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<number> {
  const q = url.searchParams;
  const ns = t.namespaced ? target.namespace : undefined;
  const accept = req.headers.accept ?? '';
  const asTable = /as=Table/.test(accept);
  const include = (q.get('includeObject') ?? 'Metadata') as IncludeObject;
  const dryRun = q.getAll('dryRun').includes('All');
  const strict = q.get('fieldValidation') === 'Strict';
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  const name = target.name;
  const sub = target.subresource === 'status' ? ('status' as const) : undefined;
  const now = Date.now();

  if (method === 'GET' && (target.watchPath || q.get('watch') === 'true' || q.get('watch') === '1')) {
    const filter = compileFilter(
      q.get('labelSelector') ?? undefined,
      name
        ? `metadata.name=${name}${q.get('fieldSelector') ? `,${q.get('fieldSelector')}` : ''}`
        : (q.get('fieldSelector') ?? undefined),
      t.fieldSelectors,
      t.kind,
    );
    return watch(ctx, t, ns, filter, q, res, asTable ? include : undefined);
  }
  if (method === 'GET' && !name) {
    const filter = compileFilter(
      q.get('labelSelector') ?? undefined,
      q.get('fieldSelector') ?? undefined,
      t.fieldSelectors,
      t.kind,
    );
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
    return send(res, 200, {
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
    return send(res, 200, obj);
  }
  if (method === 'POST' && !name) {
    if (t.namespaced && ns === undefined)
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    const obj = asObject(parseBody(await readBody(req), contentType));
    return send(res, 201, create(ctx, t, ns, obj, { dryRun, strict }));
  }
  if (method === 'PUT' && name) {
    const obj = asObject(parseBody(await readBody(req), contentType));
    if (t.group === '' && t.resource === 'namespaces' && target.subresource === 'finalize') {
      return send(res, 200, ctx.store.update(t, undefined, name, obj, { dryRun }));
    }
    return send(
      res,
      200,
      ctx.store.update(t, ns, name, obj, { dryRun, strict, ...(sub ? { subresource: sub } : {}) }),
    );
  }
  if (method === 'PATCH' && name) {
    const patch = parseBody(await readBody(req), contentType);
    const existing = ctx.store.peek(t, ns, name);
    if (!existing) {
      if (contentType === PatchType.Apply) {
        return send(res, 201, create(ctx, t, ns, asObject(patch), { dryRun, strict }));
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
    // A patch applies to the version it read unless it names a resourceVersion itself.
    const patchRv = (patch as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    obj.metadata.resourceVersion =
      contentType === PatchType.Merge || contentType === PatchType.Strategic
        ? (patchRv ?? current.metadata.resourceVersion)
        : current.metadata.resourceVersion;
    return send(
      res,
      200,
      ctx.store.update(t, ns, name, obj, { dryRun, strict, ...(sub ? { subresource: sub } : {}) }),
    );
  }
  if (method === 'DELETE' && name) {
    const text = await readBody(req);
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
    return send(res, 200, object);
  }
  if (method === 'DELETE' && !name) {
    const filter = compileFilter(
      q.get('labelSelector') ?? undefined,
      q.get('fieldSelector') ?? undefined,
      t.fieldSelectors,
      t.kind,
    );
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

/**
 * A watch stream: JSON lines of {type, object}. Without a resourceVersion (or with "0") the
 * current state is sent first as ADDED; with one, the kept history after it is replayed; a
 * version older than the history gets an ERROR event carrying a 410 Status, then the end.
 */
function watch(
  ctx: Context,
  t: ResourceType,
  namespace: string | undefined,
  filter: (obj: KubeObject) => boolean,
  q: URLSearchParams,
  res: ServerResponse,
  tableInclude: IncludeObject | undefined,
): number {
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache',
  });
  res.flushHeaders();
  let first = true;
  const write = (type: string, obj: KubeObject) => {
    if (res.writableEnded) return;
    let object: unknown = { ...obj, apiVersion: apiVersionOf(t), kind: t.kind };
    if (tableInclude && type !== 'ERROR' && type !== 'BOOKMARK') {
      object = {
        kind: 'Table',
        apiVersion: 'meta.k8s.io/v1',
        metadata: { resourceVersion: obj.metadata.resourceVersion },
        columnDefinitions: first ? columnDefinitions(t) : null,
        rows: [tableRow(t, object as KubeObject, tableInclude, Date.now())],
      };
      first = false;
    }
    if (type === 'ERROR') object = obj;
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const rvParam = q.get('resourceVersion') ?? '';
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const sendInitial = q.get('sendInitialEvents') === 'true';
  let from: number;
  if (rvParam === '' || rvParam === '0' || sendInitial) {
    const list = ctx.store.list(t, namespace, filter, undefined, undefined, () => false);
    for (const obj of list.items) write('ADDED', obj);
    from = ctx.store.resourceVersion;
    if (sendInitial && bookmarks) {
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } },
      });
    }
  } else {
    from = Number(rvParam);
    if (!Number.isInteger(from) || from < 0) {
      write('ERROR', badRequest(`invalid resourceVersion "${rvParam}"`).toStatus() as unknown as KubeObject);
      res.end();
      return 200;
    }
  }
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const finish = () => {
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  try {
    unsubscribe = ctx.store.hub.subscribe(
      {
        key: storageKey(t),
        namespace,
        matches: filter,
        send: (type, obj) => write(type, ctx.store.out(t, obj)),
        cut: finish,
      },
      from,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    write('ERROR', error.toStatus() as unknown as KubeObject);
    res.end();
    return 200;
  }
  if (bookmarks) {
    const tick = () => {
      write('BOOKMARK', {
        kind: t.kind,
        apiVersion: apiVersionOf(t),
        metadata: { resourceVersion: String(ctx.store.resourceVersion) },
      });
      timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs);
    };
    timers[0] = setTimeout(tick, ctx.bookmarkIntervalMs);
  }
  const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
  if (timeoutSeconds > 0) timers[1] = setTimeout(finish, timeoutSeconds * 1000);
  res.on('close', finish);
  return 200;
}
