import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import type { PeerConfig } from '../../shared/config/types.ts';
import { ApiError } from '../../shared/k8s/client.ts';
import { parseIp } from '../../shared/net/ip.ts';
import type { BgpRoute, L2Announcement, NodePlan, PeerPlan } from '../announce/types.ts';
import type { RejectCounts } from '../membership/io/reject-counts.ts';
import type { Membership, UdpMembershipEvents } from '../membership/io/udp-membership.ts';
import type { MembershipPeer } from '../membership/peers/peers.ts';
import type { StatusObject } from '../status/status-objects.ts';
import type { CachedObject } from './objects.ts';

/** Builders and stand-ins for the unit tests of the speaker's parts (none needs an API server). */

/** A logger whose lines the test reads: `messages()` are the `msg` fields in order. */
export function capturedLog() {
  const lines: { level: number; msg: string; [field: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}

export const l2At = (
  ip: string,
  services: string[] = ['default/web'],
  interfaces: string[] = [],
): L2Announcement => ({
  ip,
  interfaces,
  services,
  advertisements: ['l2'],
});

export const route = (prefix: string, services: string[]): BgpRoute => ({
  prefix,
  localPref: undefined,
  communities: [],
  services,
  advertisements: ['bgp'],
});

/** A validated BGPPeer as the configuration holds it: plain eBGP to 192.0.2.1:179, defaults elsewhere. */
export const peerConfig = (extra: Partial<PeerConfig> = {}): PeerConfig => ({
  name: 'router',
  myAsn: 64512,
  peerAsn: 64513,
  ibgp: false,
  peerAddress: parseIp('192.0.2.1')!,
  peerPort: 179,
  sourceAddress: undefined,
  routerId: undefined,
  holdTimeSec: 90,
  keepaliveTimeSec: 30,
  connectTimeSec: undefined,
  ebgpMultiHop: false,
  nodes: [],
  nodeSelectors: [],
  password: undefined,
  bfdProfile: undefined,
  enableGracefulRestart: false,
  dualStackAddressFamily: false,
  ...extra,
});

export const peerPlan = (name: string, routes: BgpRoute[]): PeerPlan => ({
  peer: { name, peerAddress: parseIp('192.0.2.1')! } as never,
  routes,
});

export const planOf = (l2: L2Announcement[], peers: PeerPlan[] = []): NodePlan => ({
  l2,
  peers,
  skipped: [],
});

/**
 * Membership as the speaker sees it (speaker/membership/io/udp-membership.ts's contract), driven by
 * the test: `emit` its events, set `aliveNow`, read what was asked of it.
 */
export class ScriptedMembership extends EventEmitter<UdpMembershipEvents> implements Membership {
  readonly port = 7946;
  settled = true;
  aliveNow: string[] = [];
  readonly peerLists: (readonly MembershipPeer[])[] = [];
  readonly calls: string[] = [];
  /** What setPeers answers (entries it would skip). */
  problems: string[] = [];

  /** What holdings() answers (peer name -> IPs). */
  holdingsNow = new Map<string, readonly string[]>();
  /** Every list given to setHoldings, in order. */
  readonly holdingsSet: (readonly string[])[] = [];
  /** What restarting() and resumed() answer. */
  restartingNow: string[] = [];
  resumedNow: string[] = [];

  restarting(): readonly string[] {
    return this.restartingNow;
  }

  resumed(): readonly string[] {
    return this.resumedNow;
  }

  alive(): readonly string[] {
    return this.aliveNow;
  }

  holdings(): ReadonlyMap<string, readonly string[]> {
    return this.holdingsNow;
  }

  setHoldings(holdings: readonly string[]): void {
    this.holdingsSet.push(holdings);
  }

  setPeers(peers: readonly MembershipPeer[]): string[] {
    this.peerLists.push(peers);
    return this.problems;
  }

  rejected(): RejectCounts {
    return {};
  }

  async leave(): Promise<void> {
    this.calls.push('leave');
  }

  async restart(holdMs: number): Promise<void> {
    this.calls.push(`restart ${holdMs}`);
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }
}

/**
 * Our objects in memory, behind the writer's interface (speaker/shell/objects.ts StatusObjects):
 * `name -> object` per plural; every write is logged in `writes` as `verb plural/name`. A plural
 * in `missing` answers 404 as an API server without its CRD does.
 */
export class MemoryObjects {
  readonly store = new Map<string, Map<string, CachedObject>>();
  readonly writes: string[] = [];
  readonly missing = new Set<string>();

  #of(plural: string): Map<string, CachedObject> {
    if (this.missing.has(plural))
      throw new ApiError('GET', `/apis/metalbeacon.io/v1beta1/${plural}`, 404, '');
    const objects = this.store.get(plural) ?? new Map<string, CachedObject>();
    this.store.set(plural, objects);
    return objects;
  }

  async put(desired: StatusObject, cached: CachedObject | undefined): Promise<void> {
    const objects = this.#of(desired.plural);
    this.writes.push(`${cached ? 'patch' : 'create'} ${desired.plural}/${desired.name}`);
    objects.set(desired.name, {
      metadata: { name: desired.name, labels: { ...desired.labels } },
      status: { ...desired.status },
    });
  }

  async delete(plural: string, name: string): Promise<void> {
    const objects = this.#of(plural);
    if (objects.delete(name)) this.writes.push(`delete ${plural}/${name}`);
  }

  /** Only `key=value` selectors, as the speaker uses them. */
  async list(plural: string, labelSelector: string): Promise<CachedObject[]> {
    const [key, value] = labelSelector.split('=');
    return [...this.#of(plural).values()].filter((o) =>
      value === undefined
        ? o.metadata?.labels?.[key as string] !== undefined
        : o.metadata?.labels?.[key as string] === value,
    );
  }

  /** Names of the objects of `plural`, sorted. */
  names(plural: string): string[] {
    return [...(this.store.get(plural)?.keys() ?? [])].sort();
  }
}
