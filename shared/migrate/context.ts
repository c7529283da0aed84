import { API_VERSION } from '../api/names.ts';
import type { ConvertedObject, Manifest, MigrationIssue, ServicePlan, SourceRef } from './types.ts';

/**
 * The mutable state of one migration run (created per call, never shared): what was produced
 * and every issue, plus the names already taken per kind so generated names never clash.
 */
export interface MigrationContext {
  readonly targetNamespace: string;
  readonly rewriteServices: boolean;
  readonly objects: ConvertedObject[];
  readonly services: ServicePlan[];
  readonly warnings: MigrationIssue[];
  readonly unconverted: MigrationIssue[];
  readonly skipped: MigrationIssue[];
  /** kind -> names in use (explicit CR names are reserved before legacy names are generated). */
  readonly names: Map<string, Set<string>>;
  /** Secret name -> the peers that reference it through passwordSecret. */
  readonly referencedSecrets: Map<string, SourceRef[]>;
  servicesUnchanged: number;
}

export function newContext(targetNamespace: string, rewriteServices: boolean): MigrationContext {
  return {
    targetNamespace,
    rewriteServices,
    objects: [],
    services: [],
    warnings: [],
    unconverted: [],
    skipped: [],
    names: new Map(),
    referencedSecrets: new Map(),
    servicesUnchanged: 0,
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Marks `name` as used for `kind`. */
export function reserveName(ctx: MigrationContext, kind: string, name: string): void {
  let set = ctx.names.get(kind);
  if (!set) {
    set = new Set();
    ctx.names.set(kind, set);
  }
  set.add(name);
}

/** `base`, or `base-2`, `base-3`... whichever is still free for `kind`; reserves it. */
export function uniqueName(ctx: MigrationContext, kind: string, base: string): string {
  const used = ctx.names.get(kind);
  let name = base;
  for (let n = 2; used?.has(name); n++) name = `${base}-${n}`;
  reserveName(ctx, kind, name);
  return name;
}

export function unconverted(ctx: MigrationContext, from: SourceRef, reason: string, field?: string): void {
  ctx.unconverted.push(field === undefined ? { from, reason } : { from, field, reason });
}

export function warn(ctx: MigrationContext, from: SourceRef, reason: string, field?: string): void {
  ctx.warnings.push(field === undefined ? { from, reason } : { from, field, reason });
}

/** Annotations that are bookkeeping of the old installation, not configuration. */
function isBookkeepingAnnotation(key: string): boolean {
  return key === 'kubectl.kubernetes.io/last-applied-configuration' || key.startsWith('meta.helm.sh/');
}

/** Labels and annotations worth carrying over (selectors match pool labels). */
export function carriedMetadata(metadata: Record<string, unknown>): {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} {
  const out: { labels?: Record<string, string>; annotations?: Record<string, string> } = {};
  if (isRecord(metadata.labels) && Object.keys(metadata.labels).length > 0) {
    out.labels = { ...(metadata.labels as Record<string, string>) };
  }
  if (isRecord(metadata.annotations)) {
    const kept = Object.entries(metadata.annotations as Record<string, string>).filter(
      ([key]) => !isBookkeepingAnnotation(key),
    );
    if (kept.length > 0) out.annotations = Object.fromEntries(kept);
  }
  return out;
}

/** A metalbeacon.io/v1beta1 manifest in the target namespace. */
export function ourObject(
  ctx: MigrationContext,
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  sourceMetadata: Record<string, unknown> = {},
): Manifest {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name, namespace: ctx.targetNamespace, ...carriedMetadata(sourceMetadata) },
    spec,
  };
}

export function emit(ctx: MigrationContext, from: SourceRef, object: Manifest): void {
  ctx.objects.push({ from, object });
}

/** How one source field is carried over. */
export type FieldRule =
  /**
   * Same name and meaning: copied as is. `dropWhen` gives a reason for values MetalBeacon does not
   * run: such a value is left out (the default applies) and reported as a warning.
   */
  | {
      readonly to: string;
      readonly convert?: (value: unknown, field: string) => unknown;
      readonly dropWhen?: (value: unknown) => string | undefined;
    }
  /** No MetalBeacon equivalent: dropped and reported with this reason. */
  | { readonly unsupported: string };

/**
 * Copies the fields of `source` by `rules` (source field -> rule). Unknown fields and
 * unsupported ones are reported with their path (`prefix.field`); null means "unset" as in
 * Kubernetes and is skipped.
 */
export function mapFields(
  ctx: MigrationContext,
  from: SourceRef,
  source: Record<string, unknown>,
  rules: Readonly<Record<string, FieldRule>>,
  prefix: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const field = prefix === '' ? key : `${prefix}.${key}`;
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (value === null) continue;
    if (!rule) {
      unconverted(ctx, from, 'unknown field: not a MetalLB field that MetalBeacon knows; dropped', field);
    } else if ('unsupported' in rule) {
      unconverted(ctx, from, rule.unsupported, field);
    } else {
      const dropped = rule.dropWhen?.(value);
      if (dropped !== undefined) warn(ctx, from, dropped, field);
      else out[rule.to] = rule.convert ? rule.convert(value, field) : structuredClone(value);
    }
  }
  return out;
}

/**
 * BFD echo mode (`echoMode` / legacy `echo-mode`): MetalBeacon runs BFD in asynchronous mode
 * only, and a BFDProfile with echoMode: true is a configuration error. A profile that asked for
 * echo still gets working BFD when the field is left out: the same failure, found by control
 * packets within receiveInterval x detectMultiplier. `to` is the output field.
 */
export function echoModeRule(to: string): FieldRule {
  return {
    to,
    dropWhen: (value) =>
      value === true
        ? 'echo mode is not run by MetalBeacon (asynchronous BFD only, RFC 5880): echoMode left out, so the profile runs BFD with control packets and detects a failure within receiveInterval x detectMultiplier; echoInterval has no effect'
        : undefined,
  };
}

/** Rules that copy each listed field under the same name. */
export function same(...fields: string[]): Record<string, FieldRule> {
  return Object.fromEntries(fields.map((f) => [f, { to: f }]));
}
