import { rankAnnouncers } from '../../announce/choose-announcer.ts';
import { advertisedHoldings, holdingsByNode } from '../../announce/holdings.ts';
import { planNode } from '../../announce/plan.ts';
import { configOf, l2, l2Pool, nodeFacts, type service } from '../../announce/test-helpers.ts';
import { isolationVerdict, REGATHER_MS, regathered } from '../isolation/split-brain.ts';
import {
  aliveMembers,
  initialState,
  type MembershipAction,
  type MembershipEvent,
  type MembershipState,
  peerHoldings,
  restartingPeers,
  step,
} from './protocol.ts';
import { at, testConfig } from './test-helpers.ts';

// Three speakers, each with its membership state machine, its planner and its split-brain guard,
// on one LAN, for tests that replay a fault (port-block.test.ts, link-flap.test.ts). Time and
// delivery are in the test's hands; every speaker plans at once on every change of its view,
// before what it sent in that step reaches anyone, so a plan made while a peer was briefly taken
// for dead is applied before the peer can answer. The API server always answers.

export const NAMES = ['node-1', 'node-2', 'node-3'] as const;
export type Name = (typeof NAMES)[number];
const MAC: Record<Name, string> = {
  'node-1': '02:00:00:00:00:01',
  'node-2': '02:00:00:00:00:02',
  'node-3': '02:00:00:00:00:03',
};
const nodes = NAMES.map((n) => nodeFacts(n));
const config = configOf(
  { pools: [l2Pool], l2Advertisements: [l2('l2', { ipAddressPools: ['l2-pool'] })] },
  nodes,
);
export const rank = (ip: string) =>
  rankAnnouncers(
    ip,
    NAMES.map((name) => ({ name, alive: true, eligible: true })),
  );
/** An IP of the pool the ranking gives to `order` (first to last). */
export function ipRanked(order: readonly Name[]): string {
  for (let i = 1; i < 64; i++) {
    const ip = `198.51.100.${i}`;
    if (rank(ip).join() === order.join()) return ip;
  }
  throw new Error(`no IP ranked ${order.join(' > ')}`);
}

export class Cluster {
  readonly states: Record<Name, MembershipState>;
  /** What each node's announcer answers for. */
  readonly announced: Record<Name, string[]> = { 'node-1': [], 'node-2': [], 'node-3': [] };
  nowMs = 0;
  /** UDP from → to on the membership port works. */
  udp: (from: Name, to: Name) => boolean = () => true;
  /** Frames from → to cross the LAN. */
  lan: (from: Name, to: Name) => boolean = () => true;
  /** Speakers not running: they neither tick nor hear. */
  readonly down = new Set<Name>();
  /** Nodes whose LAN link has no carrier (a link flap): nothing crosses to or from them. */
  readonly unplugged = new Set<Name>();
  /** Per node, its split-brain guard: withholding the L2 IPs, and since when it could lift. */
  readonly guards: Record<Name, { withheld: boolean; sinceMs: number | undefined }> = {
    'node-1': { withheld: false, sinceMs: undefined },
    'node-2': { withheld: false, sinceMs: undefined },
    'node-3': { withheld: false, sinceMs: undefined },
  };
  /** Who answers each IP, for every step from `watchFromMs` on: IP → answerers seen at once. */
  readonly overlaps: { atMs: number; ip: string; nodes: Name[] }[] = [];
  watchFromMs = Number.POSITIVE_INFINITY;

  readonly services: ReturnType<typeof service>[];

  constructor(services: ReturnType<typeof service>[]) {
    this.services = services;
    this.states = Object.fromEntries(
      NAMES.map((n, i) => [n, initialState(testConfig(n), BigInt(i + 1), [...NAMES], at(0))]),
    ) as Record<Name, MembershipState>;
  }

  feed(node: Name, event: MembershipEvent): void {
    if (this.down.has(node)) return;
    const result = step(this.states[node], event, at(this.nowMs));
    this.states[node] = result.state;
    // The plan before the step's messages reach anyone: planning beats the network here, the
    // worst case (a takeover is applied before the peer's answer can stop it).
    if (result.actions.some((a) => ['alive-changed', 'settled', 'holdings-changed'].includes(a.type))) {
      this.plan(node);
    }
    this.deliver(node, result.actions);
    this.check();
  }

  /** The plan loop: plan from the view now, apply, tell the peers what is on the wire. */
  plan(node: Name): void {
    const state = this.states[node];
    if (!state.settled) return;
    const peers = peerHoldings(state);
    const plan = planNode({
      nodeName: node,
      config,
      services: this.services,
      nodes,
      aliveNodes: new Set(aliveMembers(state)),
      holdings: holdingsByNode(node, advertisedHoldings(this.announced[node]), peers),
      restarting: new Set(restartingPeers(state)),
    });
    this.announced[node] = this.guarded(node, aliveMembers(state).length - 1) ? [] : plan.l2.map((a) => a.ip);
    this.feed(node, { type: 'set-holdings', holdings: advertisedHoldings(this.announced[node]) });
  }

  /**
   * The split-brain guard (speaker/shell/isolation-guard.ts, reduced to its L2 part): whether the
   * node withholds its L2 IPs now, from its peers alive and its carrier (the API server answers).
   */
  guarded(node: Name, alivePeers: number): boolean {
    const peers = { knownPeers: NAMES.length - 1, alivePeers };
    const guard = this.guards[node];
    const verdict = isolationVerdict({ ...peers, apiReachable: true, lanUp: !this.unplugged.has(node) });
    if (!verdict.shouldAnnounce) {
      guard.withheld = true;
      guard.sinceMs = undefined;
    } else if (guard.withheld) {
      guard.sinceMs ??= this.nowMs;
      const back = regathered({
        ...peers,
        sinceMs: guard.sinceMs,
        nowMs: this.nowMs,
        regatherMs: REGATHER_MS,
      });
      if (back) guard.withheld = false;
    }
    return guard.withheld;
  }

  deliver(from: Name, actions: readonly MembershipAction[]): void {
    for (const action of actions) {
      for (const to of NAMES) {
        if (to === from || this.unplugged.has(from) || this.unplugged.has(to)) continue;
        if (action.type === 'broadcast' && this.udp(from, to)) {
          this.feed(to, { type: 'datagram', bytes: action.bytes });
        }
        const framed =
          (action.type === 'lan-send' && action.path.mac === MAC[to]) || action.type === 'lan-broadcast';
        if (framed && this.lan(from, to)) {
          this.feed(to, {
            type: 'datagram',
            bytes: action.bytes,
            lan: { interface: 'eth0', mac: MAC[from] },
          });
        }
      }
    }
  }

  check(): void {
    if (this.nowMs < this.watchFromMs) return;
    const byIp = new Map<string, Name[]>();
    for (const n of NAMES) for (const ip of this.announced[n]) byIp.set(ip, [...(byIp.get(ip) ?? []), n]);
    for (const [ip, who] of byIp)
      if (who.length > 1) this.overlaps.push({ atMs: this.nowMs, ip, nodes: who });
  }

  /**
   * Ticks every node every 25 ms until `untilMs`, in `order`; a guard withholding plans again on
   * every tick (its probe and regather timers). `onStep` sees the cluster after each round.
   */
  run(untilMs: number, order: readonly Name[] = NAMES, onStep?: () => void): void {
    while (this.nowMs < untilMs) {
      this.nowMs += 25;
      for (const n of order) {
        this.feed(n, { type: 'tick' });
        if (this.guards[n].withheld && !this.down.has(n)) this.plan(n);
      }
      onStep?.();
    }
  }

  owners(ip: string): Name[] {
    return NAMES.filter((n) => this.announced[n].includes(ip));
  }
}
