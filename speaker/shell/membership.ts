import type { Timers } from '../../shared/daemon/timers.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Registry } from '../../shared/metrics/metrics.ts';
import { promMembershipMetrics } from '../membership/io/metrics.ts';
import type { Membership } from '../membership/io/udp-membership.ts';
import { WorkerMembership } from '../membership/io/worker-membership.ts';
import { RejoinTracker } from '../membership/isolation/rejoin.ts';
import type { MembershipPeer } from '../membership/peers/peers.ts';
import { nodeAddresses, peersFromPods } from '../membership/peers/peers-from-pods.ts';
import { MembershipDefaults, MembershipFastest } from '../membership/protocol/config.ts';
import type { PeerCounts } from './isolation-guard.ts';
import { keysFromSecret, waitForMembershipSecret } from './membership-secret.ts';
import type { CachedNode, CachedPod } from './trim.ts';

export interface SpeakerMembershipOptions {
  readonly nodeName: string;
  readonly log: Logger;
  /** The speaker Pods now: the peer list is made of them. */
  readonly pods: () => readonly CachedPod[];
  /** The Nodes now: a peer's datagrams may come from its Node's addresses too. */
  readonly nodes: () => readonly CachedNode[];
  /** Starts membership with the first peer list (WorkerMembership.start in the program). */
  readonly start: (peers: readonly MembershipPeer[]) => Promise<Membership>;
  /** Who is alive changed: plan again now (failover speed, no debounce). */
  readonly replan: () => void;
  /** Membership died (its network thread): the speaker must stop and be restarted. */
  readonly onFatal: (error: Error) => void;
}

/**
 * Membership as the speaker runs it: the peer list from the speaker Pods, liveness changes
 * turned into replans, and the peers that failed and came back remembered (rejoin.ts), so the
 * next plan announces our L2 IPs again.
 */
export class SpeakerMembership {
  readonly #o: SpeakerMembershipOptions;
  #membership!: Membership;
  /** Peers seen failing; one coming back means our L2 IPs are announced again. */
  readonly #rejoins = new RejoinTracker();
  #knownPeers = 0;
  #rejoined = false;
  /** The peer list membership has, as JSON: a Pod or Node change that changes nothing in it is not passed on. */
  #peersSent = '';

  /** Starts membership with the peers of the speaker Pods now and listens to it. */
  static async start(options: SpeakerMembershipOptions): Promise<SpeakerMembership> {
    const part = new SpeakerMembership(options);
    const peers = part.#currentPeers();
    part.#peersSent = JSON.stringify(peers);
    part.#membership = await options.start(peers);
    part.#listen();
    return part;
  }

  private constructor(options: SpeakerMembershipOptions) {
    this.#o = options;
  }

  /** Every peer was heard from or the start-up grace passed: before, `alive()` is incomplete. */
  get settled(): boolean {
    return this.#membership.settled;
  }

  /** Alive node names, this node included. */
  alive(): readonly string[] {
    return this.#membership.alive();
  }

  /** The L2 IPs the alive peers say they answer for, and those kept for restarting peers (peer name -> IPs). */
  holdings(): ReadonlyMap<string, readonly string[]> {
    return this.#membership.holdings();
  }

  /** Peers restarting in place: their IPs are kept for them (docs/adr/0013-l2-restart-in-place.md). */
  restarting(): readonly string[] {
    return this.#membership.restarting();
  }

  /** What the peers say this node held before it restarted in place. */
  resumed(): readonly string[] {
    return this.#membership.resumed();
  }

  /** Tells the peers the L2 IPs this node answers for now. */
  setHoldings(holdings: readonly string[]): void {
    this.#membership.setHoldings(holdings);
  }

  /** Peers listed and alive, this node excluded (the split-brain guard's input). */
  peers(): PeerCounts {
    const alivePeers = this.alive().filter((name) => name !== this.#o.nodeName).length;
    return { knownPeers: this.#knownPeers, alivePeers };
  }

  /** Whether a failed peer came back since the last call (then our L2 IPs are announced again). */
  takeRejoin(): boolean {
    const rejoined = this.#rejoined;
    this.#rejoined = false;
    return rejoined;
  }

  /** The speaker Pods or the Nodes changed: hands membership the new peer list, if it changed. */
  updatePeers(): void {
    const peers = this.#currentPeers();
    const signature = JSON.stringify(peers);
    if (signature === this.#peersSent) return;
    this.#peersSent = signature;
    for (const problem of this.#membership.setPeers(peers))
      this.#o.log.warn({ problem }, 'membership peer skipped');
  }

  /** Tells the peers this node leaves (graceful handover), then stops. */
  leave(): Promise<void> {
    return this.#membership.leave();
  }

  /** Tells the peers this node restarts in place (keep its IPs up to `holdMs`), then stops. */
  restart(holdMs: number): Promise<void> {
    return this.#membership.restart(holdMs);
  }

  /** Stops without a goodbye (to the peers, a crash). */
  close(): Promise<void> {
    return this.#membership.close();
  }

  #currentPeers(): MembershipPeer[] {
    const { peers, skipped } = peersFromPods(this.#o.pods(), 'any', nodeAddresses(this.#o.nodes()));
    for (const reason of skipped) this.#o.log.debug({ reason }, 'speaker Pod is not a membership peer');
    this.#knownPeers = peers.filter((p) => p.name !== this.#o.nodeName).length;
    return peers;
  }

  #listen(): void {
    const { log, replan } = this.#o;
    const membership = this.#membership;
    membership.on('error', (error) => this.#o.onFatal(error));
    membership.on('alive-changed', (alive) => {
      log.info({ alive }, 'alive speakers changed');
      const back = this.#rejoins.alive(alive);
      if (back.length > 0) {
        this.#rejoined = true;
        log.info({ peers: back }, 'failed speakers are back; announcing our L2 IPs again after this plan');
      }
      replan();
    });
    // A peer took an IP, or let one go, or restarts in place: whether we own it may have changed.
    membership.on('holdings-changed', () => replan());
    // What we held before our restart in place: our next plan takes it again.
    membership.on('resumed', () => replan());
    membership.on('peer-restarting', (peer, holdMs) => {
      this.#rejoins.left(peer);
      log.info({ peer, holdMs }, 'speaker restarts in place; keeping its L2 IPs for it');
    });
    membership.on('settled', (alive) => {
      log.info({ alive }, 'membership settled');
      replan();
    });
    membership.on('peer-failed', (peer, silentForMs) => {
      this.#rejoins.failed(peer);
      log.warn({ peer, silentForMs }, 'speaker failed');
    });
    membership.on('peer-left', (peer) => {
      this.#rejoins.left(peer);
      log.info({ peer }, 'speaker left');
    });
  }
}

/** Pause between reads of a membership Secret that does not exist yet. */
const MEMBERSHIP_SECRET_RETRY_MS = 2000;

/**
 * The membership keys, from their Secret (membership-secret.ts), before anything that depends on
 * them. The install makes the Secret (the Helm chart, or the kustomize Job membership-key); the
 * speaker may only read it, so a speaker starting first waits for it.
 */
export async function membershipKeys(
  client: KubeClient,
  namespace: string,
  name: string,
  log: Logger,
  timers: Timers,
): Promise<Uint8Array[]> {
  const secret = await waitForMembershipSecret(client, namespace, name, {
    retryMs: MEMBERSHIP_SECRET_RETRY_MS,
    timers,
    onWaiting: (attempt) => {
      // Once at once, then about every 30 s: the install creates it, maybe moments from now.
      if (attempt % 15 !== 1) return;
      log.warn(
        { secret: `${namespace}/${name}` },
        'waiting for the membership Secret; the install creates it (the Helm chart, or the kustomize Job membership-key)',
      );
    },
  });
  return keysFromSecret(secret);
}

/** How the speaker's membership runs (the program's flags, named as in SpeakerOptions). */
export interface WorkerMembershipOptions {
  readonly nodeName: string;
  /** HMAC keys, the signing one first (membership-secret.ts). */
  readonly keys: readonly Uint8Array[];
  readonly membershipPort: number;
  /** Default `::`. */
  readonly membershipBindAddress?: string | undefined;
  /** `fast`: the fastest timers (failover in a lab); `default` otherwise. */
  readonly membershipProfile: 'default' | 'fast';
  readonly registry: Registry;
  readonly log: Logger;
}

/** Starts membership on the network thread (WorkerMembership) with the profile's timers. */
export function workerMembership(options: WorkerMembershipOptions): SpeakerMembershipOptions['start'] {
  const profile = options.membershipProfile === 'fast' ? MembershipFastest : MembershipDefaults;
  return (peers) =>
    WorkerMembership.start({
      nodeName: options.nodeName,
      keys: options.keys,
      port: options.membershipPort,
      ...(options.membershipBindAddress ? { bindAddress: options.membershipBindAddress } : {}),
      peers,
      heartbeatIntervalMs: profile.heartbeatIntervalMs,
      deadAfterMs: profile.deadAfterMs,
      tickMs: profile.tickMs,
      metrics: promMembershipMetrics(options.registry),
      logger: options.log,
    });
}
