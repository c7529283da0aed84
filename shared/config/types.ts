import type { IpFamily, IpRange } from '../net/ip.ts';

/**
 * The validated, immutable configuration both programs run on: built by `buildConfig`
 * (./build-config.ts) from the CRs, Nodes, Namespaces and Secrets. Everything here has been
 * checked; consumers never re-validate.
 */

/** A Kubernetes label selector (metav1.LabelSelector). An empty selector matches everything. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** IPAddressPool.spec.serviceAllocation: which Services may take IPs from a pool, and its priority. */
export interface ServiceAllocation {
  /** Lower value = higher priority (MetalLB semantics); undefined = lowest priority. */
  readonly priority: number | undefined;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** A validated IPAddressPool. */
export interface Pool {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** As parsed from spec.addresses: sorted by family then first address, non-overlapping. */
  readonly ranges: readonly IpRange[];
  readonly autoAssign: boolean;
  /** Skip .0 and .255 addresses of IPv4 ranges (old equipment drops them). */
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation: ServiceAllocation | undefined;
  /** Exact number of addresses per family (before avoidBuggyIPs). */
  readonly size: Readonly<Record<IpFamily, bigint>>;
}

/** Where an error was found: the object and the field path inside it. */
export interface ConfigErrorLocation {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** Field path in the object, e.g. `spec.addresses[1]`. */
  readonly field: string;
}

/**
 * A configuration error. `transient` errors (a referenced object that may appear later, such
 * as an unknown community alias) keep the last good config without counting it as invalid.
 */
export interface ConfigError extends ConfigErrorLocation {
  readonly message: string;
  readonly transient?: boolean;
}

/** `kind namespace/name field: message`, the form every log line, event and condition uses. */
export function formatConfigError(error: ConfigError): string {
  const object = error.namespace ? `${error.namespace}/${error.name}` : error.name;
  return `${error.kind} ${object} ${error.field}: ${error.message}`;
}
