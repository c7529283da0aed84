import { Counter, Gauge, oncePerScrape, type Registry } from '../../../shared/metrics/metrics.ts';
import { SessionState } from '../codec/index.ts';
import type { BfdSessionStatus, BfdSnapshot } from '../engine/index.ts';

/** A per-session count of the snapshot, as `metalbeacon_bfd_<name>_total{peer}`. */
const SESSION_COUNTERS: readonly [string, string, (s: BfdSessionStatus) => number][] = [
  ['state_transitions', 'BFD session state changes', (s) => s.transitions],
  ['session_downs', 'BFD sessions gone from Up to Down for a path failure (flaps)', (s) => s.downs],
  ['control_packets_sent', 'BFD control packets sent', (s) => s.packetsSent],
  ['control_packets_received', 'BFD control packets received and accepted', (s) => s.packetsReceived],
  [
    'send_errors',
    'BFD control packets the kernel refused to send (no route, link down)',
    (s) => s.sendErrors,
  ],
];

/**
 * Registers the `metalbeacon_bfd_*` metrics in `registry`, read from the BFD runner (the network
 * thread owns the numbers) once per scrape: each session's state (label `peer`: the BGPPeer),
 * its transitions, flaps, packets sent, received and dropped (by reason; `peer` empty for
 * datagrams that named no session of ours), and send errors. Counts restart when a session is
 * replaced (a BGPPeer restarted), as Prometheus counters may.
 */
export function registerBfdMetrics(registry: Registry, read: () => Promise<BfdSnapshot>): void {
  const snapshot = oncePerScrape(read);
  new Gauge({
    name: 'metalbeacon_bfd_session_state',
    help: 'BFD session state (RFC 5880: 0 AdminDown, 1 Down, 2 Init, 3 Up)',
    labelNames: ['peer'] as const,
    registers: [registry],
    async collect() {
      const { sessions } = await snapshot();
      this.reset();
      for (const s of sessions) this.set({ peer: s.key }, SessionState[s.state]);
    },
  });
  for (const [name, help, value] of SESSION_COUNTERS) {
    new Counter({
      name: `metalbeacon_bfd_${name}_total`,
      help,
      labelNames: ['peer'] as const,
      registers: [registry],
      async collect() {
        const { sessions } = await snapshot();
        this.reset();
        for (const s of sessions) this.inc({ peer: s.key }, value(s));
      },
    });
  }
  new Counter({
    name: 'metalbeacon_bfd_control_packets_dropped_total',
    help: 'BFD datagrams dropped by reason (RFC 5880 §6.8.6 checks, TTL rule, unknown discriminator)',
    labelNames: ['peer', 'reason'] as const,
    registers: [registry],
    async collect() {
      const { sessions, dropped } = await snapshot();
      this.reset();
      for (const [reason, n] of Object.entries(dropped)) this.inc({ peer: '', reason }, n);
      for (const s of sessions)
        for (const [reason, n] of Object.entries(s.packetsDropped)) this.inc({ peer: s.key, reason }, n);
    },
  });
}
