import { GROUP } from '../api/names.ts';
import { emit, isRecord, type MigrationContext, unconverted, warn } from './context.ts';
import type { AnnotationRename, Manifest, SourceRef } from './types.ts';

/**
 * Service annotations: MetalLB reads `metallb.io/NAME` and the deprecated
 * `metallb.universe.tf/NAME` (the new prefix wins when both are set); MetalBeacon reads
 * `metalbeacon.io/NAME` with the same NAMEs and meanings.
 */

/** Old prefixes, strongest first (MetalLB: the metallb.io spelling wins). */
const OLD_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'] as const;

const KNOWN_NAMES = ['address-pool', 'loadBalancerIPs', 'allow-shared-ip', 'ip-allocated-from-pool'];

/** Metadata fields the API server fills in; a manifest meant for `kubectl apply` goes without them. */
const SERVER_FIELDS = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
];

/**
 * Plans the annotation renames of one Service, and with `rewriteServices` emits the Service
 * with the new annotations (old ones removed, server-set fields and status dropped).
 */
export function convertService(ctx: MigrationContext, from: SourceRef, value: Record<string, unknown>): void {
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const annotations = isRecord(metadata.annotations) ? (metadata.annotations as Record<string, unknown>) : {};
  const renames: AnnotationRename[] = [];
  const removals: string[] = [];
  // NAME -> old keys present, strongest first
  const byName = new Map<string, string[]>();
  for (const key of Object.keys(annotations)) {
    const prefix = OLD_PREFIXES.find((p) => key.startsWith(p));
    if (!prefix) continue;
    const name = key.slice(prefix.length);
    if (!KNOWN_NAMES.includes(name)) {
      unconverted(
        ctx,
        from,
        'not a MetalLB Service annotation MetalBeacon knows; left as it is',
        `metadata.annotations[${key}]`,
      );
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), key]);
  }
  for (const name of KNOWN_NAMES) {
    const keys = byName.get(name);
    if (!keys) continue;
    keys.sort(
      (a, b) =>
        OLD_PREFIXES.findIndex((p) => a.startsWith(p)) - OLD_PREFIXES.findIndex((p) => b.startsWith(p)),
    );
    const [winner, ...losers] = keys as [string, ...string[]];
    const value = String(annotations[winner]);
    const target = `${GROUP}/${name}`;
    for (const loser of losers) {
      removals.push(loser);
      if (String(annotations[loser]) !== value) {
        warn(
          ctx,
          from,
          `differs from ${winner}="${value}"; as in MetalLB, ${winner} wins and this one is removed`,
          `metadata.annotations[${loser}]`,
        );
      }
    }
    const existing = annotations[target];
    if (existing !== undefined && String(existing) !== value) {
      warn(
        ctx,
        from,
        `already set to "${String(existing)}", kept; ${winner}="${value}" is removed`,
        `metadata.annotations[${target}]`,
      );
      removals.push(winner);
    } else {
      renames.push({ from: winner, to: target, value });
    }
  }
  if (renames.length === 0 && removals.length === 0) {
    // Only Services without any MetalLB annotation are "unchanged"; the others were reported.
    if (!Object.keys(annotations).some((key) => OLD_PREFIXES.some((p) => key.startsWith(p)))) {
      ctx.servicesUnchanged++;
    }
    return;
  }
  ctx.services.push({ from, namespace: from.namespace ?? 'default', name: from.name, renames, removals });
  if (ctx.rewriteServices) emit(ctx, from, rewrittenService(value, metadata, annotations, renames, removals));
}

function rewrittenService(
  value: Record<string, unknown>,
  metadata: Record<string, unknown>,
  annotations: Record<string, unknown>,
  renames: readonly AnnotationRename[],
  removals: readonly string[],
): Manifest {
  const { status: _status, ...rest } = structuredClone(value);
  const newMetadata: Record<string, unknown> = { ...structuredClone(metadata) };
  for (const field of SERVER_FIELDS) delete newMetadata[field];
  const newAnnotations: Record<string, unknown> = {};
  const dropped = new Set([...removals, ...renames.map((r) => r.from)]);
  dropped.add('kubectl.kubernetes.io/last-applied-configuration');
  for (const [key, v] of Object.entries(annotations)) if (!dropped.has(key)) newAnnotations[key] = v;
  for (const r of renames) newAnnotations[r.to] = r.value;
  newMetadata.annotations = newAnnotations;
  return { ...rest, metadata: newMetadata } as unknown as Manifest;
}
