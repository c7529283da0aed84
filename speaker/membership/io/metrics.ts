import { Counter, Gauge, type Registry } from '../../../shared/metrics/metrics.ts';
import type { RejectReason } from '../codec/codec.ts';
import type { RejectCounts } from './reject-counts.ts';

/** Where membership reports what the metrics page shows; injected, never global. */
export interface MembershipMetrics {
  aliveMembers(count: number): void;
  failureDetected(peer: string): void;
  /** Peers heard only on the LAN path: membership datagrams between us and them are dropped. */
  lanOnlyPeers(count: number): void;
  /** Sources whose datagrams the kernel samples because they flood us (see flood-guard.ts). */
  floodedSources(count: number): void;
  /** Dropped datagrams since the last call, by reason (sent in batches, see reject-counts.ts). */
  messagesRejected(counts: RejectCounts): void;
}

/** For callers that do not collect metrics. */
export const noMembershipMetrics: MembershipMetrics = {
  aliveMembers() {},
  failureDetected() {},
  lanOnlyPeers() {},
  floodedSources() {},
  messagesRejected() {},
};

/** Registers the membership metrics in `registry` (one per speaker process). */
export function promMembershipMetrics(registry: Registry): MembershipMetrics {
  const alive = new Gauge({
    name: 'metalbeacon_membership_alive_members',
    help: 'Speakers this speaker sees alive, itself included',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'metalbeacon_membership_failures_detected_total',
    help: 'Peers declared dead after missing heartbeats (a graceful leave is not counted)',
    labelNames: ['peer'],
    registers: [registry],
  });
  const lanOnly = new Gauge({
    name: 'metalbeacon_membership_lan_only_peers',
    help: 'Peers heard only on the LAN path, not on the membership port (a firewall rule or a wrong interface between us)',
    registers: [registry],
  });
  const flooded = new Gauge({
    name: 'metalbeacon_membership_flooded_sources',
    help: 'Sources (a peer address, or all unlisted ones as one) flooding the membership port; the kernel samples their datagrams',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'metalbeacon_membership_messages_rejected_total',
    help: 'Membership datagrams dropped, by reason (malformed, bad-mac, replay, stale, unknown-sender, self; before any cryptography: unknown-source, source-mismatch, over-budget)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    aliveMembers: (count) => alive.set(count),
    failureDetected: (peer) => failures.inc({ peer }),
    lanOnlyPeers: (count) => lanOnly.set(count),
    floodedSources: (count) => flooded.set(count),
    messagesRejected: (counts) => {
      for (const [reason, count] of Object.entries(counts) as [RejectReason, number][]) {
        rejected.inc({ reason }, count);
      }
    },
  };
}
