import type { IPAddressPool } from '../api/resources.ts';
import {
  formatRange,
  type IpFamily,
  type IpRange,
  parseRangeOrCidr,
  rangeSize,
  rangesOverlap,
} from '../net/ip.ts';
import { configError, describeRef, type ObjectRef } from './errors.ts';
import { uniqueStrings } from './names.ts';
import { validateSelectorList } from './selectors.ts';
import { objectsOfShape } from './shapes.ts';
import type { ConfigError, Pool, ServiceAllocation } from './types.ts';

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Validates IPAddressPools (MetalLB's webhook rules plus a few more): every address entry parses,
 * no entry overlaps another one of the same pool or of another pool, serviceAllocation lists hold
 * no duplicates and valid selectors. Returns the valid pools, sorted by name.
 */
export function buildPools(
  objects: readonly IPAddressPool[],
  namespace: string | undefined,
  errors: ConfigError[],
): Pool[] {
  const parsed: { pool: Pool; ref: ObjectRef; fields: string[] }[] = [];
  for (const { object, ref } of objectsOfShape('IPAddressPool', objects, namespace, errors)) {
    const before = errors.length;
    const { ranges, fields } = parseAddresses(object.spec?.addresses, ref, errors);
    const serviceAllocation = parseServiceAllocation(object.spec?.serviceAllocation, ref, errors);
    if (errors.length > before) continue;
    const order = ranges
      .map((r, i) => ({ r, field: fields[i] as string }))
      .sort((a, b) => compareRanges(a.r, b.r));
    parsed.push({
      ref,
      fields: order.map((o) => o.field),
      pool: {
        name: object.metadata.name,
        labels: { ...(object.metadata.labels ?? {}) },
        ranges: order.map((o) => o.r),
        autoAssign: object.spec?.autoAssign ?? true,
        avoidBuggyIPs: object.spec?.avoidBuggyIPs ?? false,
        serviceAllocation,
        size: poolSize(ranges),
      },
    });
  }
  reportOverlapsAcrossPools(parsed, errors);
  return parsed.map((p) => p.pool);
}

function compareRanges(a: IpRange, b: IpRange): number {
  if (a.family !== b.family) return a.family === 'IPv4' ? -1 : 1;
  return a.first < b.first ? -1 : a.first > b.first ? 1 : 0;
}

function poolSize(ranges: readonly IpRange[]): Record<IpFamily, bigint> {
  const size: Record<IpFamily, bigint> = { IPv4: 0n, IPv6: 0n };
  for (const r of ranges) size[r.family] += rangeSize(r);
  return size;
}

function parseAddresses(
  addresses: readonly string[] | undefined,
  ref: ObjectRef,
  errors: ConfigError[],
): { ranges: IpRange[]; fields: string[] } {
  const ranges: IpRange[] = [];
  const fields: string[] = [];
  const texts: string[] = [];
  if (!addresses || addresses.length === 0) {
    errors.push(configError(ref, 'spec.addresses', 'a pool needs at least one CIDR or START-END range'));
    return { ranges, fields };
  }
  addresses.forEach((text, i) => {
    const field = `spec.addresses[${i}]`;
    const result = parseRangeOrCidr(String(text));
    if (!result.ok) {
      errors.push(configError(ref, field, `invalid address entry: ${result.reason}`));
      return;
    }
    const clash = ranges.findIndex((r) => rangesOverlap(r, result.value));
    if (clash >= 0) {
      const other = fields[clash] as string;
      errors.push(configError(ref, field, `"${text}" overlaps ${other} "${texts[clash]}" of the same pool`));
      return;
    }
    ranges.push(result.value);
    fields.push(field);
    texts.push(text);
  });
  return { ranges, fields };
}

/** Sweep over all ranges sorted by start: a range that starts before the furthest end seen overlaps it. */
function reportOverlapsAcrossPools(
  pools: readonly { pool: Pool; ref: ObjectRef; fields: string[] }[],
  errors: ConfigError[],
): void {
  const all = pools.flatMap(({ pool, ref, fields }) =>
    pool.ranges.map((range, i) => ({ range, ref, field: fields[i] as string })),
  );
  all.sort((a, b) => compareRanges(a.range, b.range));
  let reach: (typeof all)[number] | undefined;
  for (const entry of all) {
    if (reach && reach.range.family === entry.range.family && entry.range.first <= reach.range.last) {
      errors.push(
        configError(
          entry.ref,
          entry.field,
          `${formatRange(entry.range)} overlaps ${formatRange(reach.range)} of ${describeRef(reach.ref)} (${reach.field}); an address may belong to one pool only`,
        ),
      );
    }
    if (!reach || reach.range.family !== entry.range.family || entry.range.last > reach.range.last)
      reach = entry;
  }
}

function parseServiceAllocation(
  spec: NonNullable<IPAddressPool['spec']>['serviceAllocation'],
  ref: ObjectRef,
  errors: ConfigError[],
): ServiceAllocation | undefined {
  if (!spec) return undefined;
  const field = 'spec.serviceAllocation';
  if (spec.priority !== undefined && (!Number.isInteger(spec.priority) || spec.priority < 0)) {
    errors.push(
      configError(ref, `${field}.priority`, `priority ${spec.priority} must be a whole number, 0 or more`),
    );
  }
  const namespaces = uniqueStrings(spec.namespaces, ref, `${field}.namespaces`, 'namespace', errors);
  namespaces.forEach((ns) => {
    if (ns.length > 63 || !NAMESPACE_NAME.test(ns)) {
      const i = (spec.namespaces ?? []).indexOf(ns);
      errors.push(configError(ref, `${field}.namespaces[${i}]`, `"${ns}" is not a valid namespace name`));
    }
  });
  return {
    // MetalLB treats priority 0 like unset: it sorts after every positive priority.
    priority: spec.priority === undefined || spec.priority === 0 ? undefined : spec.priority,
    namespaces,
    namespaceSelectors: validateSelectorList(
      spec.namespaceSelectors,
      ref,
      `${field}.namespaceSelectors`,
      errors,
    ),
    serviceSelectors: validateSelectorList(spec.serviceSelectors, ref, `${field}.serviceSelectors`, errors),
  };
}
