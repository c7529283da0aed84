import { EventEmitter } from 'node:events';
import { type NetworkPart, startNetworkPart } from '../../network-thread/thread.ts';
import type { RejectReason } from '../codec/codec.ts';
import { type LocalSocket, type MembershipPeer, resolvePeers } from '../peers/peers.ts';
import { membershipConfig } from '../protocol/config.ts';
import type { PeerHoldings } from '../protocol/protocol.ts';
import { type MembershipMetrics, noMembershipMetrics } from './metrics.ts';
import type { RejectCounts } from './reject-counts.ts';
import {
  type Membership,
  MembershipBindError,
  type MembershipLogger,
  type UdpMembershipEvents,
  type UdpMembershipOptions,
} from './udp-membership.ts';
import type { FromWorker, ToWorker, WorkerStartData } from './worker-messages.ts';

/**
 * Membership on the speaker's network thread (worker-part.ts, speaker/network-thread/), with
 * the same interface as UdpMembership: what the speaker daemon should use, so that its main
 * thread's pauses delay neither detection nor heartbeats. Metrics and logs are applied on
 * the caller's thread. 'error' when the thread dies (or the part ends without being asked).
 */
export class WorkerMembership extends EventEmitter<UdpMembershipEvents> implements Membership {
  private readonly part: NetworkPart;
  private readonly local: LocalSocket;
  private aliveNow: readonly string[];
  private isSettled = false;
  private holdingsNow: PeerHoldings = new Map();
  private restartingNow: readonly string[] = [];
  private resumedNow: readonly string[] = [];
  /** Resolves when the part has stopped and is released (or its thread is gone). */
  private readonly stopped: Promise<void>;
  private markStopped: (() => void) | undefined;
  private ended = false;
  /** Dropped datagrams, by reason, as far as the network thread has reported them (once a second). */
  private readonly rejectedTotals: RejectCounts = {};

  private constructor(part: NetworkPart, local: LocalSocket, options: UdpMembershipOptions) {
    super();
    this.part = part;
    this.local = local;
    this.aliveNow = [local.nodeName];
    this.stopped = new Promise((resolve) => {
      this.markStopped = resolve;
    });
    const metrics = options.metrics ?? noMembershipMetrics;
    part.port.on('message', (message: FromWorker) => this.receive(message, metrics, options.logger));
  }

  /** Starts the part; throws MembershipConfigError (at once, on this thread) or MembershipBindError. */
  static async start(options: UdpMembershipOptions): Promise<WorkerMembership> {
    membershipConfig(options);
    const { metrics: _metrics, logger: _logger, lan: _lan, ...data } = options;
    const workerData: WorkerStartData = data;
    // Whatever arrives after 'started' but before the instance listens is kept and replayed.
    const early: FromWorker[] = [];
    let onStartMessage: (message: FromWorker) => void = () => {};
    let onEnd: (error: Error) => void = () => {};
    const part = startNetworkPart({ part: 'membership', data: workerData }, (error) => onEnd(error));
    const first = await new Promise<FromWorker>((resolve) => {
      onStartMessage = (message) => {
        if (message.type === 'started' || message.type === 'start-failed') resolve(message);
        else early.push(message);
      };
      part.port.on('message', onStartMessage);
      onEnd = (error) => resolve({ type: 'start-failed', message: `membership worker: ${error}` });
    });
    part.port.off('message', onStartMessage);
    if (first.type !== 'started') {
      await part.release();
      if (first.type === 'start-failed' && first.bind) {
        throw new MembershipBindError(first.bind.address, first.bind.port, { code: first.bind.code });
      }
      throw new Error(
        first.type === 'start-failed' ? first.message : `membership worker sent ${first.type} first`,
      );
    }
    const membership = new WorkerMembership(part, first.local, options);
    onEnd = (error) => membership.gone(error);
    for (const message of early) part.port.emit('message', message);
    return membership;
  }

  get port(): number {
    return this.local.port;
  }

  get settled(): boolean {
    return this.isSettled;
  }

  /** Datagrams dropped since start, by reason, as of the network thread's last report (each second). */
  rejected(): RejectCounts {
    return { ...this.rejectedTotals };
  }

  /** As last reported by the Worker (events arrive in order, so this matches the events seen). */
  alive(): readonly string[] {
    return this.aliveNow;
  }

  /** As last reported by the Worker, like alive(). */
  holdings(): PeerHoldings {
    return this.holdingsNow;
  }

  /** As last reported by the Worker, like alive(). */
  restarting(): readonly string[] {
    return this.restartingNow;
  }

  /** As last reported by the Worker, like alive(). */
  resumed(): readonly string[] {
    return this.resumedNow;
  }

  setHoldings(holdings: readonly string[]): void {
    this.post({ type: 'set-holdings', holdings: [...holdings] });
  }

  setPeers(peers: readonly MembershipPeer[]): string[] {
    // Checked here too, so the caller gets the problems synchronously, as from UdpMembership.
    const { problems } = resolvePeers(peers, this.local);
    this.post({ type: 'set-peers', peers: peers.map((p) => ({ ...p })) });
    return problems;
  }

  /** Says goodbye to the peers; resolves when the part has stopped. */
  async leave(): Promise<void> {
    this.post({ type: 'leave' });
    await this.stopped;
  }

  /** Says "I restart, keep my IPs up to holdMs" to the peers; resolves when the part has stopped. */
  async restart(holdMs: number): Promise<void> {
    this.post({ type: 'restart', holdMs });
    await this.stopped;
  }

  /** Stops without a goodbye; resolves when the part has stopped. */
  async close(): Promise<void> {
    this.post({ type: 'close' });
    await this.stopped;
  }

  private post(message: ToWorker): void {
    if (!this.ended) this.part.port.postMessage(message);
  }

  /** The part is over: stopped as asked ('stopped'), or gone with its thread (`error`). */
  private gone(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    const done = () => this.markStopped?.();
    if (error) {
      done();
      this.emit('error', error);
    } else void this.part.release().then(done, done);
  }

  private receive(
    message: FromWorker,
    metrics: MembershipMetrics,
    logger: MembershipLogger | undefined,
  ): void {
    switch (message.type) {
      case 'event': {
        if (message.event === 'settled' || message.event === 'alive-changed') {
          this.aliveNow = message.args[0] as readonly string[];
          this.isSettled = true;
        }
        if (message.event === 'holdings-changed') {
          this.holdingsNow = message.args[0] as PeerHoldings;
          this.restartingNow = message.args[1] as readonly string[];
        }
        if (message.event === 'resumed') this.resumedNow = message.args[0] as readonly string[];
        (this.emit as (event: string, ...args: unknown[]) => boolean)(message.event, ...message.args);
        break;
      }
      case 'metric':
        if (message.metric === 'failureDetected') metrics.failureDetected(message.value);
        else if (message.metric === 'lanOnlyPeers') metrics.lanOnlyPeers(message.value);
        else if (message.metric === 'floodedSources') metrics.floodedSources(message.value);
        else metrics.aliveMembers(message.value);
        break;
      case 'rejected':
        for (const [reason, count] of Object.entries(message.counts) as [RejectReason, number][]) {
          this.rejectedTotals[reason] = (this.rejectedTotals[reason] ?? 0) + count;
        }
        metrics.messagesRejected(message.counts);
        break;
      case 'log':
        logger?.[message.level](message.obj, message.msg);
        break;
      case 'stopped':
        this.gone();
        break;
      default:
        break;
    }
  }
}
