import { EventEmitter, once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { entryUrl } from '../../shared/runtime/entry-url.ts';
import { membershipConfig } from './config.ts';
import { type MembershipMetrics, noMembershipMetrics } from './metrics.ts';
import { type LocalSocket, type MembershipPeer, resolvePeers } from './peers.ts';
import {
  type Membership,
  MembershipBindError,
  type MembershipLogger,
  type UdpMembershipEvents,
  type UdpMembershipOptions,
} from './udp-membership.ts';
import type { FromWorker, ToWorker, WorkerStartData } from './worker-messages.ts';

/**
 * Membership on its own thread (worker-entry.ts), with the same interface as UdpMembership:
 * what the speaker daemon should use, so that its main thread's pauses delay neither
 * detection nor heartbeats. Metrics and logs are applied on the caller's thread.
 */
export class WorkerMembership extends EventEmitter<UdpMembershipEvents> implements Membership {
  private readonly worker: Worker;
  private readonly exited: Promise<unknown>;
  private readonly local: LocalSocket;
  private aliveNow: readonly string[];
  private isSettled = false;

  private constructor(worker: Worker, local: LocalSocket, options: UdpMembershipOptions) {
    super();
    this.worker = worker;
    this.local = local;
    this.aliveNow = [local.nodeName];
    this.exited = once(worker, 'exit');
    const metrics = options.metrics ?? noMembershipMetrics;
    worker.on('message', (message: FromWorker) => this.receive(message, metrics, options.logger));
    worker.on('error', (error) => this.emit('error', error));
  }

  /** Starts the Worker; throws MembershipConfigError (at once, on this thread) or MembershipBindError. */
  static async start(options: UdpMembershipOptions): Promise<WorkerMembership> {
    membershipConfig(options);
    const { metrics: _metrics, logger: _logger, ...data } = options;
    const workerData: WorkerStartData = data;
    const worker = new Worker(entryUrl(import.meta.url, './worker-entry.ts', './membership-worker.mjs'), {
      workerData,
      name: 'metalbeacon-membership',
    });
    // Whatever arrives after 'started' but before the instance listens is kept and replayed.
    const early: FromWorker[] = [];
    let onStartMessage: (message: FromWorker) => void = () => {};
    const first = await new Promise<FromWorker>((resolve) => {
      onStartMessage = (message) => {
        if (message.type === 'started' || message.type === 'start-failed') resolve(message);
        else early.push(message);
      };
      worker.on('message', onStartMessage);
      worker.once('error', (error) =>
        resolve({ type: 'start-failed', message: `membership worker: ${error}` }),
      );
      worker.once('exit', (code) =>
        resolve({ type: 'start-failed', message: `membership worker exited with ${code}` }),
      );
    });
    if (first.type !== 'started') {
      worker.off('message', onStartMessage);
      await worker.terminate();
      if (first.type === 'start-failed' && first.bind) {
        throw new MembershipBindError(first.bind.address, first.bind.port, { code: first.bind.code });
      }
      throw new Error(
        first.type === 'start-failed' ? first.message : `membership worker sent ${first.type} first`,
      );
    }
    const membership = new WorkerMembership(worker, first.local, options);
    worker.off('message', onStartMessage);
    for (const message of early) worker.emit('message', message);
    return membership;
  }

  get port(): number {
    return this.local.port;
  }

  get settled(): boolean {
    return this.isSettled;
  }

  /** As last reported by the Worker (events arrive in order, so this matches the events seen). */
  alive(): readonly string[] {
    return this.aliveNow;
  }

  setPeers(peers: readonly MembershipPeer[]): string[] {
    // Checked here too, so the caller gets the problems synchronously, as from UdpMembership.
    const { problems } = resolvePeers(peers, this.local);
    this.post({ type: 'set-peers', peers: peers.map((p) => ({ ...p })) });
    return problems;
  }

  async leave(): Promise<void> {
    this.post({ type: 'leave' });
    await this.exited;
  }

  async close(): Promise<void> {
    this.post({ type: 'close' });
    await this.exited;
  }

  private post(message: ToWorker): void {
    if (this.worker.threadId >= 0) this.worker.postMessage(message);
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
        (this.emit as (event: string, ...args: unknown[]) => boolean)(message.event, ...message.args);
        break;
      }
      case 'metric':
        if (message.metric === 'aliveMembers') metrics.aliveMembers(message.value);
        else if (message.metric === 'failureDetected') metrics.failureDetected(message.value);
        else metrics.messageRejected(message.value as Parameters<MembershipMetrics['messageRejected']>[0]);
        break;
      case 'log':
        logger?.[message.level](message.obj, message.msg);
        break;
      default:
        break;
    }
  }
}
