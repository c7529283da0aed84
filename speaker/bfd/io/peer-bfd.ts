import { networkInterfaces } from 'node:os';
import type { BfdProfileConfig, PeerConfig } from '../../../shared/config/types.ts';
import { formatIp, parseCidr, parseIp, rangeContains } from '../../../shared/net/ip.ts';
import {
  type BfdLogger,
  type BfdSessionSpec,
  type BfdSnapshot,
  type BfdTransition,
  specFromProfile,
} from '../engine/index.ts';
import type { Bfd } from './bfd.ts';
import { BfdBgpBinding, type BfdClient } from './bgp-binding.ts';
import { WorkerBfd } from './worker-bfd.ts';

export interface PeerBfdOptions {
  readonly logger: BfdLogger;
  /** The BFDProfiles of the current configuration. */
  readonly profiles: () => readonly BfdProfileConfig[];
  /** The network thread died under BFD: the daemon cannot keep its promise, and should stop. */
  readonly onFatal: (error: Error) => void;
  /** The runner; default WorkerBfd on the network thread, started with the first BFD peer. */
  readonly start?: () => Bfd;
  /** Every state change of a peer's BFD session, after BGP was told (status, Events). */
  readonly onTransition?: (transition: BfdTransition) => void;
}

/** A peer's BFD session as status shows it: its last transition. */
export interface PeerBfdState {
  readonly state: BfdTransition['to'];
  /** Wall clock of the change, ms since the epoch. */
  readonly sinceMs: number;
  /** RFC 5880 diagnostic of the change ('NoDiagnostic' when none). */
  readonly diagName: string;
}

/**
 * The speaker daemon's seam to BFD: BGP peers whose BGPPeer names a BFDProfile get a BFD session
 * with the profile's timers and role (passiveMode), single hop, or multihop with minimumTtl when
 * the peer is eBGP multihop or an iBGP peer off this node's links; the BFD session drives the
 * BGP session (BfdBgpBinding). The BGP manager calls attach/detach as sessions start and stop,
 * and sync after each plan (a changed profile reaches running sessions through Poll/Final).
 * snapshot() and the 'transition' events of bfd() are what status, metrics and Events read.
 */
export class PeerBfd {
  readonly #o: PeerBfdOptions;
  #bfd: Bfd | undefined;
  #binding: BfdBgpBinding | undefined;
  /** BGPPeer name → its configuration, for the peers with a running BGP session */
  readonly #peers = new Map<string, PeerConfig>();
  /** BGPPeer name → the last transition of its BFD session, while the peer runs BFD */
  readonly #states = new Map<string, PeerBfdState>();

  constructor(options: PeerBfdOptions) {
    this.#o = options;
  }

  /** The runner, once a peer needed BFD; undefined before. */
  bfd(): Bfd | undefined {
    return this.#bfd;
  }

  /** A BGP session started for `peer`: BFD for it when its BGPPeer names a profile. */
  attach(peer: PeerConfig, session: BfdClient): void {
    this.#peers.set(peer.name, peer);
    if (peer.bfdProfile === undefined) return;
    this.#runner().binding.bind(peer.name, session);
    this.sync();
  }

  /** The BGP session of the peer stopped: its BFD session goes AdminDown and ends. */
  detach(name: string): void {
    if (!this.#peers.delete(name)) return;
    this.#binding?.unbind(name);
    this.#states.delete(name);
    this.sync();
  }

  /**
   * The BFD state of a peer's session: undefined when the peer runs no BFD; Down from attach
   * until the session's first change (a session that never came up is Down, RFC 5880 §6.8.1).
   */
  state(name: string): PeerBfdState | undefined {
    const peer = this.#peers.get(name);
    if (peer?.bfdProfile === undefined) return undefined;
    return this.#states.get(name) ?? { state: 'Down', sinceMs: 0, diagName: 'NoDiagnostic' };
  }

  /** Brings the BFD sessions in line with the peers and the current profiles. */
  sync(): void {
    if (!this.#bfd) return;
    const profiles = new Map(this.#o.profiles().map((p) => [p.name, p])); // name -> profile
    const specs: BfdSessionSpec[] = [];
    for (const peer of this.#peers.values()) {
      if (peer.bfdProfile === undefined) continue;
      const profile = profiles.get(peer.bfdProfile);
      // A profile missing now is a configuration error the config builder reports; the session
      // keeps its last timers rather than going down for it.
      if (!profile) continue;
      specs.push(peerSpec(peer, profile));
    }
    const problems = this.#bfd.setSessions(specs);
    for (const problem of problems) this.#o.logger.warn({ problem }, 'BFD session not started');
  }

  /** Every BFD session and its counters; empty while no peer runs BFD. */
  async snapshot(): Promise<BfdSnapshot> {
    return this.#bfd ? this.#bfd.snapshot() : { sessions: [], dropped: {} };
  }

  async close(): Promise<void> {
    this.#peers.clear();
    await this.#bfd?.close();
  }

  #runner(): { bfd: Bfd; binding: BfdBgpBinding } {
    if (!this.#bfd || !this.#binding) {
      const bfd = this.#o.start?.() ?? new WorkerBfd({ logger: this.#o.logger });
      bfd.on('error', (error) => this.#o.onFatal(error));
      this.#bfd = bfd;
      this.#binding = new BfdBgpBinding(bfd);
      // After the binding's listener: BGP has been told when status and Events hear of it.
      // Our own AdminDown only ends a removed session; a peer restarted at once has a new one.
      bfd.on('transition', (t) => {
        if (!this.#peers.has(t.key) || t.to === 'AdminDown') return;
        this.#states.set(t.key, { state: t.to, sinceMs: t.atMs, diagName: t.diagName });
        this.#o.onTransition?.(t);
      });
    }
    return { bfd: this.#bfd, binding: this.#binding };
  }
}

/**
 * The BFD session of a BGPPeer. Multihop (RFC 5883) when the peer is eBGP multihop, or iBGP and
 * on none of this node's subnets; otherwise single hop (RFC 5881).
 */
export function peerSpec(peer: PeerConfig, profile: BfdProfileConfig): BfdSessionSpec {
  const peerAddress = formatIp(peer.peerAddress);
  const multihop = (peer.ebgpMultiHop && !peer.ibgp) || (peer.ibgp && !onLink(peerAddress));
  return specFromProfile(
    {
      key: peer.name,
      peerAddress,
      ...(peer.sourceAddress ? { localAddress: formatIp(peer.sourceAddress) } : {}),
    },
    profile,
    multihop,
  );
}

/** Whether `address` is on a subnet of one of this node's interfaces. */
function onLink(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return false;
  return Object.values(networkInterfaces()).some((entries) =>
    (entries ?? []).some((e) => {
      const cidr = e.cidr ? parseCidr(e.cidr) : undefined;
      return cidr?.ok === true && rangeContains(cidr.value, ip);
    }),
  );
}
