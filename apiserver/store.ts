import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  gone,
  invalid,
  notFound,
  type StatusCause,
} from './errors.ts';
import { apiVersionOf, type KubeObject, type NameRule, type ResourceType, storageKey } from './types.ts';
import { WatchHub } from './watch-hub.ts';

/** Hooks the server plugs into generic storage for per-type behaviour. */
export interface StoreHooks {
  /** Defaults/validates an object before it is written (e.g. Service allocation). */
  admit?: (t: ResourceType, obj: KubeObject, old: KubeObject | undefined) => void;
  /** Runs after a write is committed (e.g. a CRD registers its types). */
  committed?: (t: ResourceType, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The `status` subresource: only status changes; otherwise status is kept as stored. */
  subresource?: 'status';
  /** fieldValidation=Strict: unknown (pruned) fields are an error instead of being dropped. */
  strict?: boolean;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** name rule → [pattern, max length, the real server's message] */
const NAME_RULES: Record<NameRule, [RegExp, number, string]> = {
  subdomain: [
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    253,
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  ],
  label1123: [
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    63,
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  ],
  label1035: [
    /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    63,
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  ],
  pathSegment: [/^(?!\.\.?$)[^/%]+$/, 253, `may not be '.' or '..' and may not contain '/' or '%'`],
};

/**
 * Generic object storage with the real server's write semantics: one global, monotonically
 * increasing resourceVersion; uid/creationTimestamp/generation; optimistic concurrency;
 * the status subresource split; finalizers and graceful deletion; every commit recorded in
 * the watch hub. Objects are copied in and out so callers can never alias stored state.
 */
export class ObjectStore {
  /** storageKey → `namespace/name` → object */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private rv = 0;
  readonly hub: WatchHub;
  private readonly now: () => Date;
  private readonly newUid: () => string;
  hooks: StoreHooks = {};

  constructor(options: { historyLimit: number; now?: () => Date; newUid?: () => string }) {
    this.hub = new WatchHub(options.historyLimit);
    this.now = options.now ?? (() => new Date());
    this.newUid = options.newUid ?? randomUUID;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    const key = storageKey(t);
    let b = this.objects.get(key);
    if (!b) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  private timestamp(): string {
    // RFC 3339 with second precision, as metav1.Time serialises.
    return `${this.now().toISOString().slice(0, 19)}Z`;
  }

  /** The object as served under a type's version (storage is version-independent). */
  out(t: ResourceType, obj: KubeObject): KubeObject {
    const copy = t.storage ? t.storage.fromStorage(structuredClone(obj)) : structuredClone(obj);
    return { apiVersion: apiVersionOf(t), kind: t.kind, ...copy, metadata: copy.metadata } as KubeObject;
  }

  peek(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(t).get(`${namespace ?? ''}/${name}`);
  }

  /** All stored objects of a type (no copy; for server-internal scans such as allocation). */
  scan(t: ResourceType): Iterable<KubeObject> {
    return this.bucket(t).values();
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.peek(t, namespace, name);
    if (!obj) throw notFound(t.group, t.resource, name, t.kind);
    return this.out(t, obj);
  }

  /**
   * One page of a list, in key order. The continue token carries the first page's
   * resourceVersion and the last key; it expires (410) once that version has left the history,
   * like etcd compaction. Unlike etcd we keep no snapshots: later pages show the current state
   * after the last key (objects are never repeated or skipped, but may be newer than the RV).
   */
  list(
    t: ResourceType,
    namespace: string | undefined,
    filter: (obj: KubeObject) => boolean,
    limit: number | undefined,
    continueToken: string | undefined,
    isExpired: (rv: number) => boolean,
  ): ListResult {
    let after = '';
    let listRv = this.rv;
    if (continueToken) {
      try {
        const parsed = JSON.parse(Buffer.from(continueToken, 'base64url').toString('utf8')) as {
          rv: number;
          start: string;
        };
        after = parsed.start;
        listRv = parsed.rv;
      } catch {
        throw badRequest('continue key is not valid: invalid encoding');
      }
      if (isExpired(listRv)) {
        throw gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
    }
    const keys = [...this.bucket(t).keys()]
      .filter((k) => namespace === undefined || k.startsWith(`${namespace}/`))
      .sort();
    const matching = keys
      .filter((k) => k > after)
      .map((k) => this.bucket(t).get(k)!)
      .filter(filter);
    const page = limit && limit > 0 ? matching.slice(0, limit) : matching;
    const result: ListResult = { items: page.map((o) => this.out(t, o)), resourceVersion: String(listRv) };
    if (page.length < matching.length) {
      const last = page[page.length - 1]!;
      const start = `${last.metadata.namespace ?? ''}/${last.metadata.name}`;
      result.continue = Buffer.from(JSON.stringify({ rv: listRv, start })).toString('base64url');
      result.remainingItemCount = matching.length - page.length;
    }
    return result;
  }

  private commit(
    t: ResourceType,
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    obj: KubeObject,
    previous?: KubeObject,
  ) {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    if (type === 'DELETED') this.bucket(t).delete(key);
    else this.bucket(t).set(key, obj);
    this.hub.publish({
      type,
      key: storageKey(t),
      resourceVersion: this.rv,
      object: obj,
      ...(previous ? { previous } : {}),
    });
    this.hooks.committed?.(t, type, obj);
  }

  /** CRD schema: prune, default, validate (422), and Strict field validation (400). */
  private checkSchema(t: ResourceType, obj: KubeObject, options: WriteOptions): void {
    if (t.prune) {
      const pruned = t.prune(obj);
      if (options.strict && pruned.length > 0) {
        throw badRequest(
          `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: strict decoding error: ${pruned
            .map((p) => `unknown field "${p}"`)
            .join(', ')}`,
        );
      }
    }
    const problems = t.validate?.(obj) ?? [];
    if (problems.length > 0) throw invalid(t.group, t.kind, obj.metadata.name ?? '', problems);
  }

  private checkMeta(t: ResourceType, obj: KubeObject): void {
    const causes: StatusCause[] = [];
    const name = obj.metadata.name;
    if (!name)
      causes.push({
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
        reason: 'FieldValueRequired',
      });
    else {
      const [pattern, max, rule] = NAME_RULES[t.nameRule ?? 'subdomain'];
      if (!pattern.test(name))
        causes.push({ field: 'metadata.name', message: `Invalid value: "${name}": ${rule}` });
      else if (name.length > max) {
        causes.push({
          field: 'metadata.name',
          message: `Invalid value: "${name}": must be no more than ${max} characters`,
        });
      }
    }
    if (causes.length > 0) throw invalid(t.group, t.kind, name ?? '', causes);
  }

  create(
    t: ResourceType,
    namespace: string | undefined,
    input: KubeObject,
    options: WriteOptions = {},
  ): KubeObject {
    const obj = t.storage ? t.storage.toStorage(structuredClone(input)) : structuredClone(input);
    obj.metadata ??= {};
    if (input.kind && input.kind !== t.kind) {
      throw badRequest(`the kind "${input.kind}" does not match the resource ${t.resource} (kind ${t.kind})`);
    }
    if (t.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
    } else delete obj.metadata.namespace;
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${this.newUid().replace(/-/g, '').slice(0, 5)}`;
    }
    this.checkMeta(t, obj);
    const name = obj.metadata.name!;
    if (this.peek(t, obj.metadata.namespace, name)) throw alreadyExists(t.group, t.resource, name);
    if (obj.metadata.resourceVersion) {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    delete obj.apiVersion;
    delete obj.kind;
    this.checkSchema(t, obj, options);
    Object.assign(obj.metadata, { uid: this.newUid(), creationTimestamp: this.timestamp() });
    if (t.tracksGeneration) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.managedFields;
    this.hooks.admit?.(t, obj, undefined);
    if (options.dryRun)
      return this.out(t, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } });
    this.commit(t, 'ADDED', obj);
    return this.out(t, obj);
  }

  /**
   * PUT semantics (patches end here too). A stale resourceVersion is a 409 Conflict; an empty
   * one means "unconditional" as in the real server.
   */
  update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    options: WriteOptions = {},
  ): KubeObject {
    const old = this.peek(t, t.namespaced ? namespace : undefined, name);
    if (!old) throw notFound(t.group, t.resource, name, t.kind);
    const obj = t.storage ? t.storage.toStorage(structuredClone(input)) : structuredClone(input);
    obj.metadata ??= {};
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    obj.metadata.name = name;
    if (t.namespaced) obj.metadata.namespace = old.metadata.namespace;
    const wantRv = obj.metadata.resourceVersion;
    if (wantRv && wantRv !== old.metadata.resourceVersion) {
      throw conflict(
        t.group,
        t.resource,
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    delete obj.apiVersion;
    delete obj.kind;
    // The status subresource split (both ways): /status writes only status, the main
    // resource never writes status for types that have the subresource.
    let next: KubeObject;
    if (options.subresource === 'status') {
      next = structuredClone(old);
      if (obj.status === undefined) delete next.status;
      else next.status = obj.status;
    } else {
      next = obj;
      if (t.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      // System-owned metadata cannot be changed by clients.
      for (const f of [
        'uid',
        'creationTimestamp',
        'generation',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
      ] as const) {
        if (old.metadata[f] === undefined) delete next.metadata[f];
        else (next.metadata as Record<string, unknown>)[f] = old.metadata[f];
      }
      delete next.metadata.managedFields;
      if (
        old.metadata.deletionTimestamp &&
        (next.metadata.finalizers ?? []).some((f) => !(old.metadata.finalizers ?? []).includes(f))
      ) {
        throw invalid(t.group, t.kind, name, [
          {
            field: 'metadata.finalizers',
            message: 'Forbidden: no new finalizers can be added if the object is being deleted',
          },
        ]);
      }
    }
    // Through /status only status can differ from the stored (valid) object.
    this.checkSchema(t, next, options);
    this.hooks.admit?.(t, next, old);
    // generation counts changes of everything but metadata and status.
    const strip = (o: KubeObject) => {
      const { metadata: _m, status: _s, ...rest } = o;
      return t.hasStatus ? rest : { ...rest, status: _s };
    };
    if (t.tracksGeneration && !isDeepStrictEqual(strip(old), strip(next))) {
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    // A no-op write does not bump resourceVersion and sends no event, like the real server.
    if (isDeepStrictEqual(old, next)) return this.out(t, old);
    if (options.dryRun) return this.out(t, next);
    // Removing the last finalizer of an object that is being deleted deletes it.
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.commit(t, 'DELETED', next);
      return this.out(t, next);
    }
    this.commit(t, 'MODIFIED', next, old);
    return this.out(t, next);
  }

  /**
   * DELETE: immediate without finalizers; with finalizers only deletionTimestamp is set and
   * the object goes when its last finalizer is removed.
   */
  delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    options: WriteOptions & { preconditions?: { uid?: string; resourceVersion?: string } } = {},
  ): { object: KubeObject; deleted: boolean } {
    const old = this.peek(t, t.namespaced ? namespace : undefined, name);
    if (!old) throw notFound(t.group, t.resource, name, t.kind);
    const pre = options.preconditions;
    for (const [field, wanted, actual] of [
      ['UID', pre?.uid, old.metadata.uid],
      ['ResourceVersion', pre?.resourceVersion, old.metadata.resourceVersion],
    ] as const) {
      if (wanted && wanted !== actual) {
        throw conflict(
          t.group,
          t.resource,
          name,
          `Precondition failed: ${field} in precondition: ${wanted}, ${field} in object meta: ${actual}`,
        );
      }
    }
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp) return { object: this.out(t, old), deleted: false };
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = this.timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (t.tracksGeneration) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
      if (!options.dryRun) this.commit(t, 'MODIFIED', next, old);
      return { object: this.out(t, next), deleted: false };
    }
    const gone = structuredClone(old);
    if (!options.dryRun) this.commit(t, 'DELETED', gone);
    return { object: this.out(t, gone), deleted: true };
  }

  /** Used when restoring after a restart: the counter resumes above everything stored. */
  restore(snapshot: Snapshot): void {
    this.objects.clear();
    for (const [key, entries] of snapshot.objects)
      this.objects.set(
        key,
        new Map(entries.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, structuredClone(o)])),
      );
    this.rv = snapshot.resourceVersion;
    this.hub.compact(this.rv);
  }

  snapshot(): Snapshot {
    return {
      resourceVersion: this.rv,
      objects: [...this.objects].map(([key, m]) => [key, [...m.values()].map((o) => structuredClone(o))]),
    };
  }

  /** Drops every object of a type (its CRD was deleted), sending DELETED to watchers. */
  dropAll(t: ResourceType): void {
    for (const obj of [...this.bucket(t).values()]) this.commit(t, 'DELETED', structuredClone(obj));
    this.objects.delete(storageKey(t));
  }

  /** Objects of every type in a namespace (for namespace deletion). */
  namespaceContents(namespace: string): { key: string; obj: KubeObject }[] {
    const found: { key: string; obj: KubeObject }[] = [];
    for (const [key, m] of this.objects) {
      for (const obj of m.values()) if (obj.metadata.namespace === namespace) found.push({ key, obj });
    }
    return found;
  }
}

/** The data kept across a simulated API server restart. */
export interface Snapshot {
  resourceVersion: number;
  objects: [string, KubeObject[]][];
}

export { ApiError };
