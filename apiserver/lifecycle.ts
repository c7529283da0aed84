/** Object lifecycles beyond plain storage: admission hooks, CRD registration, namespaces, garbage collection. */
import type { Context } from './context.ts';
import { crdStatus, typesFromCrd, validateCrd } from './crd.ts';
import { defaultService, type ServiceSpec } from './defaulting.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import { type KubeObject, type ResourceType, storageKey } from './types.ts';

/** Per-type behaviour plugged into generic storage: Service allocation, CRDs, namespaces. */
export function installHooks(ctx: Context): void {
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
export class OwnerIndex {
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

/**
 * Namespace deletion: mark Terminating now, delete the contents a little later (like the
 * namespace controller, so `kubectl delete -f` can still delete the objects it lists after
 * their namespace), then the namespace itself once empty.
 */
export function deleteNamespace(ctx: Context, name: string, dryRun: boolean): KubeObject {
  const nsType = ctx.registry.lookup('', 'v1', 'namespaces')!;
  const ns = ctx.store.peek(nsType, undefined, name);
  if (!ns) throw notFound('', 'namespaces', name, 'Namespace');
  if (dryRun || ns.metadata.deletionTimestamp) return ctx.store.get(nsType, undefined, name);
  const marked = structuredClone(ns);
  marked.metadata.finalizers = [...(marked.metadata.finalizers ?? []), 'kubernetes'];
  ctx.store.update(nsType, undefined, name, marked);
  ctx.store.delete(nsType, undefined, name);
  // Re-admit through /status so the phase follows the deletionTimestamp (Terminating).
  const deleting = ctx.store.peek(nsType, undefined, name)!;
  const result = ctx.store.update(nsType, undefined, name, structuredClone(deleting), {
    subresource: 'status',
  });
  const purge = () => {
    if (!ctx.store.peek(nsType, undefined, name)?.metadata.deletionTimestamp) return;
    for (const { key, obj } of ctx.store.namespaceContents(name)) {
      const t = ctx.registry.anyVersion(key);
      if (t && !obj.metadata.deletionTimestamp) ctx.store.delete(t, name, obj.metadata.name!);
    }
    finishNamespace(ctx, name);
  };
  if (ctx.namespaceDeletionDelayMs <= 0) purge();
  else setTimeout(purge, ctx.namespaceDeletionDelayMs).unref();
  return result;
}

/** Creates or replaces objects (CRDs first so their kinds resolve), as a simple `kubectl apply`. */
export function applyObjects(ctx: Context, objects: KubeObject[]): KubeObject[] {
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
export function create(
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
