import type { ObjectMeta } from '../api/meta.ts';
import { Annotations, PoolConditionTypes, StatusLabels } from '../api/names.ts';
import type { BGPSessionState, IPAddressPool, ServiceBGPStatus, ServiceL2Status } from '../api/resources.ts';

/**
 * `metalbeacon status` without I/O: the objects a cluster holds in, one report out (the JSON
 * document of `-o json`, and what the table is drawn from). Everything is sorted by name so
 * the same cluster always gives the same report.
 */

/** A core/v1 Service as listed (only the fields the report reads). */
export interface ServiceInput {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: { readonly type?: string; readonly loadBalancerClass?: string };
  readonly status?: {
    readonly loadBalancer?: {
      readonly ingress?: readonly { readonly ip?: string; readonly hostname?: string }[];
    };
  };
}

/** A core/v1 Event; times are RFC 3339 strings (the shell converts the client's Dates). */
export interface EventInput {
  readonly metadata?: { readonly creationTimestamp?: string };
  readonly involvedObject?: {
    readonly kind?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly uid?: string;
  };
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly firstTimestamp?: string;
  readonly lastTimestamp?: string;
  readonly eventTime?: string;
}

/** Everything the report is made from. */
export interface StatusInput {
  /** The namespace of the MetalBeacon objects (shown in the report). */
  readonly namespace: string;
  /** Report only Services of this spec.loadBalancerClass; undefined: only those without one. */
  readonly lbClass?: string | undefined;
  readonly services: readonly ServiceInput[];
  /** Warning events on Services (others are ignored). */
  readonly events: readonly EventInput[];
  readonly pools: readonly IPAddressPool[];
  readonly l2Statuses: readonly ServiceL2Status[];
  readonly bgpStatuses: readonly ServiceBGPStatus[];
  readonly sessions: readonly BGPSessionState[];
}

/** Event reasons the controller posts when a Service gets no IP (controller/reconcile/service.ts). */
export const FailureReasons = ['AllocationFailed', 'LoadBalancerFailed'] as const;

/** One node announcing one Service. */
export type Announcement =
  | {
      readonly protocol: 'L2';
      readonly node: string /** Empty: every suitable interface. */;
      readonly interfaces: string[];
    }
  | {
      readonly protocol: 'BGP';
      readonly node: string;
      /** The peers the node advertises the Service to, with that node's session state (null: no BGPSessionState). */
      readonly peers: { readonly name: string; readonly state: string | null }[];
    };

/** Why a Service has no IP: the controller's last failure event on it. */
export interface PendingReason {
  readonly reason: string;
  readonly message: string;
  /** RFC 3339; null when the event carries no time. */
  readonly time: string | null;
}

/** pending: no IP; assigned: IPs but no node announces them; announced: at least one node does. */
export type ServiceState = 'pending' | 'assigned' | 'announced';

export interface ServiceReport {
  readonly namespace: string;
  readonly name: string;
  readonly state: ServiceState;
  /** In status.loadBalancer.ingress order. */
  readonly ips: string[];
  /** From the metalbeacon.io/ip-allocated-from-pool annotation; null when absent. */
  readonly pool: string | null;
  /** 'L2', 'BGP', 'BGP+L2' (both), or null when not announced. */
  readonly protocol: string | null;
  /** Sorted by protocol, then node. */
  readonly announcements: Announcement[];
  /** Only for pending Services; null when no failure event was found. */
  readonly pendingReason: PendingReason | null;
}

export interface SessionReport {
  readonly node: string;
  readonly peer: string;
  readonly peerAddress: string | null;
  readonly state: string;
  /** RFC 3339 time of the last state change. */
  readonly since: string | null;
  readonly prefixesAdvertised: number | null;
  readonly lastError: string | null;
  /** The BFD session protecting it; null when the peer runs none. */
  readonly bfd: {
    readonly state: string;
    readonly since: string | null;
    readonly diagnostic: string | null;
  } | null;
}

/** Address counts of one family: exact decimal strings (docs/adr/0006-pool-status-counts-as-strings.md). */
export interface FamilyCounts {
  readonly IPv4: string | null;
  readonly IPv6: string | null;
}

export interface PoolReport {
  readonly name: string;
  readonly addresses: string[];
  readonly autoAssign: boolean;
  readonly assigned: FamilyCounts;
  readonly available: FamilyCounts;
  /** The ConfigValid condition; null when the controller has not written one. */
  readonly configValid: { readonly status: string; readonly reason: string; readonly message: string } | null;
}

export const ProblemKinds = {
  ServicePending: 'ServicePending',
  ServiceNotAnnounced: 'ServiceNotAnnounced',
  SessionNotEstablished: 'SessionNotEstablished',
  PoolConfigInvalid: 'PoolConfigInvalid',
  PoolStatusMissing: 'PoolStatusMissing',
} as const;
export type ProblemKind = (typeof ProblemKinds)[keyof typeof ProblemKinds];

/** Something a person should look at; `object` names it (ns/name, node/peer or pool). */
export interface Problem {
  readonly kind: ProblemKind;
  readonly object: string;
  readonly message: string;
}

/** The `-o json` document. Field order and presence are stable: absent values are null. */
export interface StatusReport {
  /** Bumped when a field changes meaning or disappears. */
  readonly version: 1;
  readonly namespace: string;
  readonly lbClass: string | null;
  readonly services: ServiceReport[];
  /** LoadBalancer Services left out because another loadBalancerClass owns them. */
  readonly otherClassServices: number;
  readonly bgpSessions: SessionReport[];
  readonly pools: PoolReport[];
  readonly problems: Problem[];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const key = (...parts: string[]): string => parts.join('\u0000');

/** The time an event last happened, in ms (NaN-safe: unknown times sort first). */
function eventTimeMs(event: EventInput): number {
  for (const t of [
    event.lastTimestamp,
    event.eventTime,
    event.firstTimestamp,
    event.metadata?.creationTimestamp,
  ]) {
    if (t) {
      const ms = Date.parse(t);
      if (!Number.isNaN(ms)) return ms;
    }
  }
  return Number.NEGATIVE_INFINITY;
}

function eventTimeText(event: EventInput): string | null {
  return (
    event.lastTimestamp ??
    event.eventTime ??
    event.firstTimestamp ??
    event.metadata?.creationTimestamp ??
    null
  );
}

/** Service ns/name of a status object: its status fields, else its labels. */
function statusService(
  meta: ObjectMeta,
  status: { serviceNamespace?: string; serviceName?: string } | undefined,
) {
  const namespace = status?.serviceNamespace ?? meta.labels?.[StatusLabels.ServiceNamespace];
  const name = status?.serviceName ?? meta.labels?.[StatusLabels.ServiceName];
  return namespace && name ? key(namespace, name) : undefined;
}

/** The report of one cluster's objects. */
export function buildStatusReport(input: StatusInput): StatusReport {
  // node + peer -> session
  const sessionsByKey = new Map<string, SessionReport>();
  for (const s of input.sessions) {
    const node = s.status?.node ?? s.metadata.labels?.[StatusLabels.Node];
    const peer = s.status?.peer ?? s.metadata.labels?.[StatusLabels.Peer];
    if (!node || !peer) continue;
    sessionsByKey.set(key(node, peer), {
      node,
      peer,
      peerAddress: s.status?.peerAddress ?? null,
      state: s.status?.state ?? 'Unknown',
      since: s.status?.since ?? null,
      prefixesAdvertised:
        typeof s.status?.prefixesAdvertised === 'number' ? s.status.prefixesAdvertised : null,
      lastError: s.status?.lastError || null,
      bfd: s.status?.bfd
        ? {
            state: s.status.bfd.state ?? 'Unknown',
            since: s.status.bfd.since ?? null,
            diagnostic: s.status.bfd.diagnostic ?? null,
          }
        : null,
    });
  }
  const bgpSessions = [...sessionsByKey.values()].sort(
    (a, b) => compare(a.node, b.node) || compare(a.peer, b.peer),
  );

  // service ns/name -> announcements
  const announcements = new Map<string, Announcement[]>();
  // Each status object adds what it says to its Service's list, when it names a Service and a node.
  const addEach = <S extends ServiceL2Status | ServiceBGPStatus>(
    statuses: readonly S[],
    describe: (s: S, node: string) => Announcement,
  ): void => {
    for (const s of statuses) {
      const service = statusService(s.metadata, s.status);
      const node = s.status?.node ?? s.metadata.labels?.[StatusLabels.Node];
      if (!service || !node) continue;
      const list = announcements.get(service) ?? [];
      list.push(describe(s, node));
      announcements.set(service, list);
    }
  };
  addEach(input.l2Statuses, (s, node) => ({
    protocol: 'L2',
    node,
    interfaces: (s.status?.interfaces ?? []).map((i) => i.name).sort(compare),
  }));
  addEach(input.bgpStatuses, (s, node) => ({
    protocol: 'BGP',
    node,
    peers: [...new Set(s.status?.peers ?? [])].sort(compare).map((name) => ({
      name,
      state: sessionsByKey.get(key(node, name))?.state ?? null,
    })),
  }));

  // service ns/name -> its latest failure event
  const failures = new Map<string, EventInput>();
  for (const e of input.events) {
    const o = e.involvedObject;
    if (o?.kind !== 'Service' || !o.namespace || !o.name) continue;
    if (!(FailureReasons as readonly (string | undefined)[]).includes(e.reason)) continue;
    const k = key(o.namespace, o.name, o.uid ?? '');
    const before = failures.get(k);
    if (!before || eventTimeMs(e) >= eventTimeMs(before)) failures.set(k, e);
  }
  const failureFor = (namespace: string, name: string, uid: string | undefined): EventInput | undefined => {
    // An event of an earlier Service of the same name (another uid) says nothing about this one.
    const exact = uid ? failures.get(key(namespace, name, uid)) : undefined;
    return exact ?? failures.get(key(namespace, name, ''));
  };

  let otherClassServices = 0;
  const services: ServiceReport[] = [];
  for (const svc of input.services) {
    const namespace = svc.metadata?.namespace;
    const name = svc.metadata?.name;
    if (svc.spec?.type !== 'LoadBalancer' || !namespace || !name) continue;
    if ((svc.spec.loadBalancerClass ?? undefined) !== (input.lbClass ?? undefined)) {
      otherClassServices++;
      continue;
    }
    const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
    const announced =
      ips.length === 0 ? [] : sortAnnouncements(announcements.get(key(namespace, name)) ?? []);
    const protocols = [...new Set(announced.map((a) => a.protocol))];
    const failure = ips.length === 0 ? failureFor(namespace, name, svc.metadata?.uid) : undefined;
    services.push({
      namespace,
      name,
      state: ips.length === 0 ? 'pending' : announced.length === 0 ? 'assigned' : 'announced',
      ips,
      pool: svc.metadata?.annotations?.[Annotations.IpAllocatedFromPool] ?? null,
      protocol: protocols.length === 0 ? null : protocols.join('+'),
      announcements: announced,
      pendingReason: failure
        ? { reason: failure.reason ?? '', message: failure.message ?? '', time: eventTimeText(failure) }
        : null,
    });
  }
  services.sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));

  const pools: PoolReport[] = input.pools
    .map((p) => {
      const c = p.status?.conditions?.find((x) => x.type === PoolConditionTypes.ConfigValid);
      return {
        name: p.metadata.name,
        addresses: [...(p.spec?.addresses ?? [])],
        autoAssign: p.spec?.autoAssign ?? true,
        assigned: { IPv4: p.status?.assignedIPv4 ?? null, IPv6: p.status?.assignedIPv6 ?? null },
        available: { IPv4: p.status?.availableIPv4 ?? null, IPv6: p.status?.availableIPv6 ?? null },
        configValid: c ? { status: c.status, reason: c.reason, message: c.message } : null,
      };
    })
    .sort((a, b) => compare(a.name, b.name));

  return {
    version: 1,
    namespace: input.namespace,
    lbClass: input.lbClass ?? null,
    services,
    otherClassServices,
    bgpSessions,
    pools,
    problems: findProblems(services, bgpSessions, pools),
  };
}

function sortAnnouncements(list: readonly Announcement[]): Announcement[] {
  return [...list].sort((a, b) => compare(a.protocol, b.protocol) || compare(a.node, b.node));
}

/** Pending Services, unannounced IPs, sessions not Established, pools not in force. */
function findProblems(
  services: readonly ServiceReport[],
  sessions: readonly SessionReport[],
  pools: readonly PoolReport[],
): Problem[] {
  const problems: Problem[] = [];
  for (const s of services) {
    const object = `${s.namespace}/${s.name}`;
    if (s.state === 'pending') {
      problems.push({
        kind: ProblemKinds.ServicePending,
        object,
        message: s.pendingReason
          ? `no IP: ${s.pendingReason.reason}: ${s.pendingReason.message}`
          : 'no IP yet, and no AllocationFailed event: is the controller running and does it handle this loadBalancerClass?',
      });
    } else if (s.state === 'assigned') {
      problems.push({
        kind: ProblemKinds.ServiceNotAnnounced,
        object,
        message: `${s.ips.join(', ')} not announced by any node (no L2Advertisement or BGPAdvertisement for pool ${s.pool ?? '?'}, no eligible node, or no ready endpoint with externalTrafficPolicy Local)`,
      });
    }
  }
  for (const s of sessions) {
    if (s.state === 'Established') continue;
    const where = s.peerAddress ? ` (${s.peerAddress})` : '';
    problems.push({
      kind: ProblemKinds.SessionNotEstablished,
      object: `${s.node}/${s.peer}`,
      message: `BGP session to ${s.peer}${where} from ${s.node} is ${s.state}${s.since ? ` since ${s.since}` : ''}${s.lastError ? `; last error: ${s.lastError}` : ''}`,
    });
  }
  for (const p of pools) {
    if (!p.configValid) {
      problems.push({
        kind: ProblemKinds.PoolStatusMissing,
        object: p.name,
        message: 'pool has no ConfigValid condition: is the controller running?',
      });
    } else if (p.configValid.status !== 'True') {
      problems.push({
        kind: ProblemKinds.PoolConfigInvalid,
        object: p.name,
        message: `pool not in force: ${p.configValid.reason}: ${p.configValid.message}`,
      });
    }
  }
  return problems;
}
