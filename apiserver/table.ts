import type { KubeObject, PrinterColumn, ResourceType } from './types.ts';

/**
 * meta.k8s.io/v1 Table output, what `kubectl get` asks for (Accept: ...;as=Table). The server
 * renders the cells; kubectl only lays them out, so NAME/TYPE/CLUSTER-IP/... look exactly as
 * a real cluster's.
 */

/** duration.HumanDuration from k8s.io/apimachinery: 45s, 3m20s, 5h, 3d4h, 2y30d. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/**
 * The simple JSONPath of additionalPrinterColumns: `.a.b`, `.a[0].b`, `.a[*].b`. Several
 * results (from [*]) print comma-separated, like the real server's printer.
 */
export function evalJsonPath(obj: unknown, path: string): unknown[] {
  const tokens = path
    .replace(/^\{|\}$/g, '')
    .replace(/^\$/, '')
    .match(/\.[^.[\]]+|\[[^\]]*\]/g);
  let current: unknown[] = [obj];
  for (const token of tokens ?? []) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      if (token.startsWith('.')) {
        const v = (value as Record<string, unknown>)[token.slice(1)];
        if (v !== undefined) next.push(v);
      } else {
        const inner = token.slice(1, -1).replace(/^'|'$/g, '');
        if (!Array.isArray(value)) {
          const v = (value as Record<string, unknown>)[inner];
          if (v !== undefined) next.push(v);
        } else if (inner === '*') next.push(...value);
        else {
          const v = value.at(Number(inner));
          if (v !== undefined) next.push(v);
        }
      }
    }
    current = next;
  }
  return current;
}

function cellValue(column: PrinterColumn, values: unknown[], nowMs: number): unknown {
  if (values.length === 0) return column.type === 'string' || column.type === 'date' ? '<none>' : null;
  if (column.type === 'date' && typeof values[0] === 'string') {
    const t = Date.parse(values[0]);
    return Number.isNaN(t) ? values[0] : humanDuration(nowMs - t);
  }
  if (values.length === 1) {
    const v = values[0];
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
  }
  return values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** One row: cells in column order and the object (PartialObjectMetadata by default). */
export function tableRow(t: ResourceType, obj: KubeObject, include: IncludeObject, nowMs: number) {
  let custom: Record<string, unknown> = {};
  try {
    custom = t.cells?.(obj) ?? {};
  } catch {
    // Printing never fails a request: an object of unexpected shape prints as <unknown>.
    custom = Object.fromEntries(t.columns.map((c) => [c.name, '<unknown>']));
  }
  const cells = t.columns.map((c) =>
    c.name in custom && c.type !== 'date'
      ? custom[c.name]
      : cellValue(c, evalJsonPath(obj, c.jsonPath), nowMs),
  );
  const object =
    include === 'None'
      ? undefined
      : include === 'Object'
        ? obj
        : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  return { cells, ...(object ? { object } : {}) };
}

export function columnDefinitions(t: ResourceType) {
  return t.columns.map((c) => ({
    name: c.name,
    type: c.type === 'date' ? 'string' : c.type,
    format: c.format ?? '',
    description: c.description ?? (c.name === 'Name' ? 'Name must be unique within a namespace.' : ''),
    priority: c.priority ?? 0,
  }));
}

export function toTable(
  t: ResourceType,
  objects: KubeObject[],
  meta: { resourceVersion?: string; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  nowMs: number,
  withColumns = true,
) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    ...(withColumns ? { columnDefinitions: columnDefinitions(t) } : { columnDefinitions: null }),
    rows: objects.map((o) => tableRow(t, o, include, nowMs)),
  };
}
