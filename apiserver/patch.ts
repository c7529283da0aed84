import { isDeepStrictEqual } from 'node:util';
import { ApiError, badRequest } from './errors.ts';

/** JSON values as they appear in patches. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON Merge Patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...(structuredClone(target) as JsonObject) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value) as Json;
  }
  return result;
}

/** RFC 6901 pointer → reference tokens. */
function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw badRequest(`invalid JSON pointer "${pointer}": must start with /`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function patchFailed(message: string): ApiError {
  // The real server answers an inapplicable JSON patch with 422 Invalid.
  return new ApiError(
    422,
    'Invalid',
    `the server rejected our request due to an error in our request: ${message}`,
  );
}

/** Resolves the parent container of a pointer and the last token. */
function locate(doc: Json, tokens: string[], pointer: string): { parent: Json; key: string } {
  let node: Json = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)] as Json;
    else if (isObject(node)) node = node[token] as Json;
    else node = undefined as unknown as Json;
    if (node === undefined) throw patchFailed(`path "${pointer}" does not exist`);
  }
  const key = tokens[tokens.length - 1];
  if (key === undefined) throw patchFailed(`cannot operate on the whole document at "${pointer}"`);
  return { parent: node, key };
}

function getAt(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const token of parsePointer(pointer)) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(token)]
      : isObject(node)
        ? node[token]
        : undefined;
    if (next === undefined) throw patchFailed(`path "${pointer}" does not exist`);
    node = next;
  }
  return node;
}

function removeAt(doc: Json, pointer: string): Json {
  const { parent, key } = locate(doc, parsePointer(pointer), pointer);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw patchFailed(`index ${key} out of range`);
    return parent.splice(i, 1)[0] as Json;
  }
  if (isObject(parent) && key in parent) {
    const old = parent[key] as Json;
    delete parent[key];
    return old;
  }
  throw patchFailed(`unable to remove nonexistent key: ${key}`);
}

function addAt(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw patchFailed(`index ${key} out of range`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) parent[key] = value;
  else throw patchFailed(`path "${pointer}" does not exist`);
  return doc;
}

/** RFC 6902 JSON Patch (add, remove, replace, move, copy, test). */
export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch must be an array of operations');
  let doc = structuredClone(target) as Json;
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw badRequest(`invalid JSON patch operation ${JSON.stringify(op)}: needs "op" and "path"`);
    }
    const path = op.path;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(op.value ?? null));
        break;
      case 'remove':
        removeAt(doc, path);
        break;
      case 'replace':
        if (parsePointer(path).length === 0) doc = structuredClone(op.value ?? null);
        else {
          removeAt(doc, path);
          doc = addAt(doc, path, structuredClone(op.value ?? null));
        }
        break;
      case 'move': {
        const value = removeAt(doc, String(op.from));
        doc = addAt(doc, path, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, path, structuredClone(getAt(doc, String(op.from))));
        break;
      case 'test':
        if (!isDeepStrictEqual(getAt(doc, path), op.value)) throw patchFailed(`test failed at "${path}"`);
        break;
      default:
        throw badRequest(`unknown JSON patch operation "${op.op}"`);
    }
  }
  return doc;
}

/**
 * Patch metadata for strategic merge patch: which lists merge by which key. The real server
 * reads `patchStrategy`/`patchMergeKey` struct tags; we keep the subset of the types we serve
 * that kubectl actually patches. Keyed by kind and field path (list indices omitted).
 * kind → path → merge key ('' = merge a list of primitives as a set).
 */
const MERGE_KEYS: Record<string, Record<string, string>> = {
  '*': {
    'metadata.finalizers': '',
    'metadata.ownerReferences': 'uid',
    'status.conditions': 'type',
  },
  Service: { 'spec.ports': 'port' },
  Pod: {
    'spec.containers': 'name',
    'spec.initContainers': 'name',
    'spec.ephemeralContainers': 'name',
    'spec.containers.ports': 'containerPort',
    'spec.initContainers.ports': 'containerPort',
    'spec.containers.env': 'name',
    'spec.initContainers.env': 'name',
    'spec.containers.volumeMounts': 'mountPath',
    'spec.initContainers.volumeMounts': 'mountPath',
    'spec.volumes': 'name',
    'spec.imagePullSecrets': 'name',
    'spec.hostAliases': 'ip',
  },
  Node: { 'spec.taints': 'key', 'status.addresses': 'type', 'spec.podCIDRs': '' },
  ServiceAccount: { secrets: 'name' },
};

// Workloads embed a Pod spec under spec.template.
for (const workload of ['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'Job']) {
  MERGE_KEYS[workload] = Object.fromEntries(
    Object.entries(MERGE_KEYS.Pod!).map(([path, key]) => [`spec.template.${path}`, key]),
  );
}

function mergeKeyFor(kind: string, path: string): string | undefined {
  return MERGE_KEYS[kind]?.[path] ?? MERGE_KEYS['*']?.[path];
}

const DIRECTIVE = '$patch';

/**
 * Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), the subset kubectl
 * sends: maps merge, lists with a merge key merge by that key, `$patch: replace|delete` in maps
 * and list items, `$deleteFromPrimitiveList/<field>`, `$retainKeys`, `$setElementOrder/<field>`
 * (the listed elements take that order; elements only the server has follow, in their order).
 */
export function applyStrategicMergePatch(target: unknown, patch: unknown, kind: string): unknown {
  return smp(isObject(target) ? structuredClone(target) : {}, patch, kind, '');
}

function smp(target: JsonObject, patch: unknown, kind: string, path: string): JsonObject {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  if (patch[DIRECTIVE] === 'replace') {
    const { [DIRECTIVE]: _, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (patch[DIRECTIVE] === 'delete') return {};
  const retain = patch.$retainKeys;
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const existing = result[field];
      if (Array.isArray(existing) && Array.isArray(value)) {
        result[field] = existing.filter((e) => !value.some((v) => isDeepStrictEqual(v, e)));
      }
      continue;
    }
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) {
      delete result[key];
    } else if (isObject(value)) {
      result[key] = smp(isObject(result[key]) ? result[key] : {}, value, kind, childPath);
      if (value[DIRECTIVE] === 'delete') delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, kind, childPath);
    } else {
      result[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = key.slice('$setElementOrder/'.length);
    const list = result[field];
    if (Array.isArray(list)) {
      const childPath = path ? `${path}.${field}` : field;
      result[field] = applyElementOrder(list, order, mergeKeyFor(kind, childPath));
    }
  }
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

/** Orders a merged list as `$setElementOrder` says (by merge key, or by value for primitives). */
function applyElementOrder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const identity = (item: Json): Json => (mergeKey && isObject(item) ? (item[mergeKey] ?? null) : item);
  const wanted = order.map((o) => (mergeKey && isObject(o) ? (o[mergeKey] ?? null) : o));
  const ordered: Json[] = [];
  const rest: Json[] = [];
  for (const item of list)
    (wanted.some((w) => isDeepStrictEqual(w, identity(item))) ? ordered : rest).push(item);
  ordered.sort(
    (a, b) =>
      wanted.findIndex((w) => isDeepStrictEqual(w, identity(a))) -
      wanted.findIndex((w) => isDeepStrictEqual(w, identity(b))),
  );
  return [...ordered, ...rest];
}

function mergeList(current: Json | undefined, patch: Json[], kind: string, path: string): Json[] {
  const existing = Array.isArray(current) ? current : [];
  if (patch.some((p) => isObject(p) && p[DIRECTIVE] === 'replace')) {
    return stripDirectives(patch.filter((p) => !(isObject(p) && p[DIRECTIVE] === 'replace'))) as Json[];
  }
  const mergeKey = mergeKeyFor(kind, path);
  if (mergeKey === undefined) return stripDirectives(patch) as Json[]; // atomic list: replace
  if (mergeKey === '') {
    const merged = [...existing];
    for (const p of patch) if (!merged.some((e) => isDeepStrictEqual(e, p))) merged.push(p);
    return merged;
  }
  const merged: Json[] = [...existing];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const keyValue = item[mergeKey];
    const index = merged.findIndex((e) => isObject(e) && isDeepStrictEqual(e[mergeKey], keyValue));
    if (item[DIRECTIVE] === 'delete') {
      if (index >= 0) merged.splice(index, 1);
    } else if (index >= 0) {
      merged[index] = smp(merged[index] as JsonObject, item, kind, path);
    } else {
      merged.push(smp({}, item, kind, path));
    }
  }
  return merged;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === DIRECTIVE || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

/** The patch types of the Content-Type header. */
export const PatchType = {
  Json: 'application/json-patch+json',
  Merge: 'application/merge-patch+json',
  Strategic: 'application/strategic-merge-patch+json',
  Apply: 'application/apply-patch+yaml',
} as const;
