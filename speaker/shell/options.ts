import type { HostPort } from '../../shared/daemon/host-port.ts';
import { systemTimers, type Timers } from '../../shared/daemon/timers.ts';
import type { KubeClient } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { NodePlan } from '../announce/types.ts';
import type { SocketOptions } from '../bgp/socket-options.ts';
import type { SpeakerMetrics } from './metrics.ts';
import type { Planner } from './plan-loop.ts';

/** How `metalbeacon speaker` runs; tests start it with the same options. */
export interface SpeakerOptions {
  /** The API client (shared/k8s/client.ts); the caller owns it: stop() and kill() leave it open. */
  readonly client: KubeClient;
  readonly nodeName: string;
  /** Namespace of the CRs, the membership Secret, the speaker Pods and the status objects. */
  readonly namespace: string;
  readonly log: Logger;
  readonly planner: Planner;
  /** Where /metrics, /healthz, /readyz listen (`HOST:PORT` text or parsed); undefined: no server. */
  readonly metricsListen?: string | HostPort | undefined;
  readonly membershipPort: number;
  /** Default `::`. */
  readonly membershipBindAddress?: string | undefined;
  readonly membershipSecret: string;
  readonly speakerSelector: string;
  readonly membershipProfile: 'default' | 'fast';
  readonly lbClass?: string | undefined;
  readonly excludeInterfaces?: RegExp | undefined;
  /** Seconds between GRACEFUL_SHUTDOWN and Cease on SIGTERM. */
  readonly bgpShutdownDrainSec: number;
  /** Port for incoming BGP connections; 0: active only. Default 179. */
  readonly bgpListenPort?: number;
  /** After telling the peers we leave, how long we keep answering while the new owner takes over. */
  readonly handoverMs?: number;
  /**
   * On a graceful stop, ask the peers to keep our L2 IPs for us this long (restart in place,
   * docs/adr/0013-l2-restart-in-place.md) instead of leaving; 0 or undefined: leave and hand over.
   */
  readonly restartHoldMs?: number;
  /**
   * Quiet time after an API change before the plan is recomputed, default 100 ms. Membership
   * changes replan at once.
   */
  readonly debounceMs?: number;
  readonly socketOptions?: SocketOptions | undefined;
  /**
   * SCHED_FIFO priority of the network thread (ARP/NDP, membership, BFD); 0 or absent: none,
   * a short scheduler slice. Refused (no CAP_SYS_NICE): a warning and the slice.
   */
  readonly networkThreadPriority?: number;
  /**
   * How often the BGPPeers' password Secrets are read again (they are read by name, never
   * watched; a BGPPeer change reads them at once). Default 60 s.
   */
  readonly secretRefreshMs?: number;
  /** Wall-clock milliseconds (Event timestamps, BGPSessionState `since`). Default Date.now. */
  readonly now?: () => number;
  /** The daemon's timers (plan and status loops, probes, handover window). Default the process's. */
  readonly timers?: Timers;
}

/** The options with the defaults named above filled in, as the speaker's parts read them. */
export type ResolvedSpeakerOptions = SpeakerOptions &
  Required<Pick<SpeakerOptions, 'now' | 'timers' | 'debounceMs' | 'secretRefreshMs'>>;

/**
 * Fills in the defaults of the options the wiring hands to several parts; a default only one part
 * reads stays with that part (the BGP listen port in bgp-manager.ts).
 */
export function withDefaults(options: SpeakerOptions): ResolvedSpeakerOptions {
  return {
    ...options,
    now: options.now ?? Date.now,
    timers: options.timers ?? systemTimers,
    debounceMs: options.debounceMs ?? 100,
    secretRefreshMs: options.secretRefreshMs ?? 60_000,
  };
}

/** A running speaker. */
export interface SpeakerHandle {
  readonly metrics: SpeakerMetrics;
  readonly metricsAddress: string | undefined;
  /** The first plan has been applied. */
  ready(): boolean;
  /** What the last plan really announced (after the split-brain guard, without what failed). */
  lastPlan(): NodePlan | undefined;
  /** Resolves when no plan and no status write is pending. */
  idle(): Promise<void>;
  /** Graceful: leave, handover window, BGP drain, withdraw, delete own objects. */
  stop(): Promise<void>;
  /** Stops without goodbye or cleanup, as a crash would look to the others. */
  kill(): Promise<void>;
  /** Resolves (after stopping) if a worker dies; the program should then exit non-zero. */
  readonly failed: Promise<Error>;
}
