import type { Condition } from '../../shared/api/meta.ts';
import { PoolConditionTypes } from '../../shared/api/names.ts';
import type { IPAddressPoolStatus } from '../../shared/api/resources.ts';
import { compareText } from '../../shared/config/names.ts';
import { type ConfigError, formatConfigError } from '../../shared/config/types.ts';
import type { Allocator } from '../allocator/allocator.ts';

/**
 * Pool status and config-error reporting (pure). Counts are exact decimal strings, so a /64
 * reads 18446744073709551616 (MetalLB saturates at 2^63-1 and can go negative).
 */

/** The configuration errors that concern one object, keyed `Kind/namespace/name`. */
export function errorsByObject(errors: readonly ConfigError[]): Map<string, ConfigError[]> {
  const out = new Map<string, ConfigError[]>();
  for (const error of errors) {
    const key = objectKey(error.kind, error.namespace, error.name);
    out.set(key, [...(out.get(key) ?? []), error]);
  }
  return out;
}

/** `Kind/namespace/name`: the key used by {@link errorsByObject}. */
export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

/**
 * The desired status of one IPAddressPool object: counts from the allocator when the pool is
 * in force, and a `ConfigValid` condition saying whether it is (and if not, why).
 * `lastTransitionTime` moves only when the condition's status changes.
 */
export function desiredPoolStatus(input: {
  readonly allocator: Allocator;
  readonly name: string;
  readonly generation: number | undefined;
  readonly errors: readonly ConfigError[];
  /** The config is stale (a newer, invalid config was rejected). */
  readonly stale: boolean;
  readonly previous: IPAddressPoolStatus | undefined;
  readonly nowIso: string;
}): IPAddressPoolStatus {
  const counts = input.allocator.counts(input.name);
  const valid = input.errors.length === 0;
  const inForce = counts !== undefined;
  const reason = valid ? (inForce ? 'Loaded' : 'NotLoaded') : 'ConfigurationError';
  const message = valid
    ? inForce
      ? input.stale
        ? 'the pool is in force; another object has an error, so the last good configuration is used'
        : 'the pool is in force'
      : 'the pool is not part of the running configuration yet'
    : `${input.errors.map(formatConfigError).join('; ')}${inForce ? ' (the last good version of this pool stays in force)' : ''}`;
  const status: Condition['status'] = valid && inForce ? 'True' : 'False';
  const before = input.previous?.conditions?.find((c) => c.type === PoolConditionTypes.ConfigValid);
  const condition: Condition = {
    type: PoolConditionTypes.ConfigValid,
    status,
    reason,
    message,
    lastTransitionTime: before && before.status === status ? before.lastTransitionTime : input.nowIso,
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
  };
  return {
    ...(counts
      ? {
          assignedIPv4: counts.assigned.IPv4.toString(),
          assignedIPv6: counts.assigned.IPv6.toString(),
          availableIPv4: counts.available.IPv4.toString(),
          availableIPv6: counts.available.IPv6.toString(),
        }
      : {}),
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    conditions: [condition],
  };
}

/** Whether two pool statuses say the same thing (so no write is needed). */
export function sameStatus(a: IPAddressPoolStatus | undefined, b: IPAddressPoolStatus): boolean {
  if (!a) return false;
  const strip = (s: IPAddressPoolStatus) => ({
    ...s,
    conditions: (s.conditions ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest),
  });
  return JSON.stringify(sortKeys(strip(a))) === JSON.stringify(sortKeys(strip(b)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => compareText(a, b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}
