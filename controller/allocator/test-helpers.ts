import type { Pool, ServiceAllocation } from '../../shared/config/types.ts';
import { type IpValue, parseIp, parseRangeOrCidr, rangeSize } from '../../shared/net/ip.ts';
import type { ServiceFacts } from './allocator.ts';

/** Test helper: a validated Pool from address strings (ranges sorted by family then start). */
export function makePool(
  name: string,
  addresses: readonly string[],
  options: Partial<Pick<Pool, 'autoAssign' | 'avoidBuggyIPs' | 'labels'>> & {
    serviceAllocation?: Partial<ServiceAllocation>;
  } = {},
): Pool {
  const ranges = addresses
    .map((text) => {
      const parsed = parseRangeOrCidr(text);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.value;
    })
    .sort((a, b) => (a.family !== b.family ? (a.family < b.family ? -1 : 1) : a.first < b.first ? -1 : 1));
  const size = { IPv4: 0n, IPv6: 0n };
  for (const range of ranges) size[range.family] += rangeSize(range);
  return {
    name,
    labels: options.labels ?? {},
    ranges,
    autoAssign: options.autoAssign ?? true,
    avoidBuggyIPs: options.avoidBuggyIPs ?? false,
    serviceAllocation: options.serviceAllocation
      ? {
          priority: options.serviceAllocation.priority,
          namespaces: options.serviceAllocation.namespaces ?? [],
          namespaceSelectors: options.serviceAllocation.namespaceSelectors ?? [],
          serviceSelectors: options.serviceAllocation.serviceSelectors ?? [],
        }
      : undefined,
    size,
  };
}

/** Test helper: Service facts with defaults (IPv4 SingleStack, TCP/80, ETP Cluster). */
export function makeFacts(key: string, overrides: Partial<ServiceFacts> = {}): ServiceFacts {
  const [namespace = 'default'] = key.split('/');
  return {
    key,
    namespace,
    namespaceLabels: {},
    labels: {},
    families: ['IPv4'],
    familyPolicy: 'SingleStack',
    pool: undefined,
    sharingKey: undefined,
    backendKey: '',
    ports: [{ protocol: 'TCP', port: 80 }],
    ...overrides,
  };
}

/** Test helper: parse an address or throw. */
export function ip(text: string): IpValue {
  const value = parseIp(text);
  if (!value) throw new Error(`bad test IP ${text}`);
  return value;
}
