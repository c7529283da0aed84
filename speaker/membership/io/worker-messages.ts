import type { LocalSocket, MembershipPeer } from '../peers/peers.ts';
import type { RejectCounts } from './reject-counts.ts';
import type { UdpMembershipEvents, UdpMembershipOptions } from './udp-membership.ts';

/** Start options that cross into the Worker (metrics, logger and the LAN port stay on their own threads). */
export type WorkerStartData = Omit<UdpMembershipOptions, 'metrics' | 'logger' | 'lan'>;

/** Caller → Worker. */
export type ToWorker =
  | { readonly type: 'set-peers'; readonly peers: readonly MembershipPeer[] }
  | { readonly type: 'set-holdings'; readonly holdings: readonly string[] }
  | { readonly type: 'leave' }
  | { readonly type: 'restart'; readonly holdMs: number }
  | { readonly type: 'close' };

/** Worker → caller. Metrics and log lines travel as messages so the caller's registry and logger are used. */
export type FromWorker =
  | { readonly type: 'started'; readonly local: LocalSocket }
  | {
      readonly type: 'start-failed';
      readonly bind?: { readonly address: string; readonly port: number; readonly code: string };
      readonly message: string;
    }
  | {
      readonly type: 'event';
      readonly event: keyof UdpMembershipEvents;
      readonly args: readonly unknown[];
    }
  | {
      readonly type: 'metric';
      readonly metric: 'aliveMembers' | 'lanOnlyPeers' | 'floodedSources';
      readonly value: number;
    }
  | { readonly type: 'metric'; readonly metric: 'failureDetected'; readonly value: string }
  /** Datagrams dropped since the previous one (at most one a second). */
  | { readonly type: 'rejected'; readonly counts: RejectCounts }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly obj: object; readonly msg: string }
  | { readonly type: 'stopped' };
