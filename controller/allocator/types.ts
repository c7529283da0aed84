import type { Pool } from '../../shared/config/types.ts';
import type { IpFamily, IpValue } from '../../shared/net/ip.ts';
import type { ReleasedQueue } from './released-queue.ts';

/**
 * The allocator's vocabulary: what it is told about a Service, what it answers, and (used only
 * inside this folder) how it keeps an address's holders and a pool's counters.
 */

/** `spec.ipFamilyPolicy` of a Service. */
export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** One (protocol, port) of a Service; sharers of an IP must not overlap on these. */
export interface ServicePort {
  readonly protocol: string;
  readonly port: number;
}

/** What the allocator needs to know about a Service (built by the reconciler). */
export interface ServiceFacts {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly namespaceLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.ipFamilies`, in order (primary first); one or two entries. */
  readonly families: readonly IpFamily[];
  readonly familyPolicy: FamilyPolicy;
  /** Annotation `metalbeacon.io/address-pool`. */
  readonly pool: string | undefined;
  /** Annotation `metalbeacon.io/allow-shared-ip`. */
  readonly sharingKey: string | undefined;
  /** '' for externalTrafficPolicy Cluster; the canonical pod selector for Local. */
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
}

/** Why a pool (or a requested IP) was refused. Stable strings: used in events and metrics. */
export const RefusalReason = {
  NoPools: 'NoPools',
  PoolNotFound: 'PoolNotFound',
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  ServiceSelectorMismatch: 'ServiceSelectorMismatch',
  AutoAssignOff: 'AutoAssignOff',
  FamilyMissing: 'FamilyMissing',
  Exhausted: 'Exhausted',
  NotInAnyPool: 'NotInAnyPool',
  NotInRequestedPool: 'NotInRequestedPool',
  DifferentPools: 'DifferentPools',
  WrongFamily: 'WrongFamily',
  DuplicateFamily: 'DuplicateFamily',
  BuggyIp: 'BuggyIp',
  Taken: 'Taken',
  SharingKeyMismatch: 'SharingKeyMismatch',
  BackendKeyMismatch: 'BackendKeyMismatch',
  PortConflict: 'PortConflict',
  NotAssigned: 'NotAssigned',
  RequestChanged: 'RequestChanged',
  FamilyChanged: 'FamilyChanged',
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/** One refusal: the pool it concerns (if any), a stable reason and a sentence for humans. */
export interface Refusal {
  readonly pool: string | undefined;
  readonly reason: RefusalReason;
  readonly message: string;
}

/** A Service's IPs (ordered as its `ipFamilies`) and the pool they come from. */
export interface Assignment {
  readonly pool: string;
  readonly ips: readonly IpValue[];
}

export type AllocationResult =
  | { readonly ok: true; readonly assignment: Assignment }
  | { readonly ok: false; readonly refusals: readonly Refusal[] };

/** Exact address counts of one pool, per family. */
export interface PoolCounts {
  readonly assigned: Readonly<Record<IpFamily, bigint>>;
  readonly available: Readonly<Record<IpFamily, bigint>>;
}

/** What {@link Allocator.setPools} did to existing assignments. */
export interface PoolChange {
  /** Services whose IPs left every pool: their assignment is gone. */
  readonly dropped: readonly string[];
  /** Services that lost some of their IPs (one family left the pools) but keep the others. */
  readonly trimmed: readonly string[];
  /** Services whose IPs now belong to a differently named pool. */
  readonly rehomed: readonly string[];
}

export interface AssignOptions {
  /** Accept one family for a RequireDualStack Service (the other is added next). */
  readonly allowPartial?: boolean;
}

export interface AllocatorOptions {
  /** Released addresses remembered per pool and family, in release order (default 16384). */
  readonly releasedHistoryPerPool?: number;
}

/** The Services on one address (inside this folder only). */
export interface Holder {
  readonly family: IpFamily;
  readonly value: bigint;
  pool: string;
  sharingKey: string | undefined;
  backendKey: string;
  /** service key -> its ports on this IP */
  readonly services: Map<string, readonly ServicePort[]>;
}

/** A pool and its counters (inside this folder only). */
export interface PoolState {
  readonly pool: Pool;
  /** released addresses, oldest release first */
  readonly released: Record<IpFamily, ReleasedQueue>;
  readonly usable: Record<IpFamily, bigint>;
  readonly assignedUsable: Record<IpFamily, bigint>;
  readonly assigned: Record<IpFamily, bigint>;
}
