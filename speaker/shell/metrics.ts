import { Counter, Gauge, Registry } from '../../shared/metrics/metrics.ts';
import { collectProcessMetrics } from '../../shared/metrics/process-metrics.ts';

/**
 * The speaker's own Prometheus metrics, on a registry of its own; the L2 worker's counters,
 * the BGP session metrics and membership register into the same registry.
 */
export class SpeakerMetrics {
  readonly registry = new Registry();

  constructor() {
    collectProcessMetrics(this.registry);
  }

  readonly announcedServices = new Gauge({
    name: 'metalbeacon_speaker_announced_services',
    help: 'Services this node announces, by protocol (layer2, bgp)',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly announcedIps = new Gauge({
    name: 'metalbeacon_speaker_announced_ips',
    help: 'IPs this node answers ARP/NDP for (layer2) or prefixes it advertises (bgp)',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly plansApplied = new Counter({
    name: 'metalbeacon_speaker_plans_applied_total',
    help: 'Plans computed and applied (only differences reach the announcers)',
    registers: [this.registry],
  });
  readonly announceFailures = new Counter({
    name: 'metalbeacon_speaker_announce_failures_total',
    help: 'Announcements that failed, by protocol',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly isolated = new Gauge({
    name: 'metalbeacon_speaker_isolated_bool',
    help: '1 while the split-brain guard withholds every announcement (no peer alive and no API server)',
    registers: [this.registry],
  });
  readonly isolations = new Counter({
    name: 'metalbeacon_speaker_isolations_total',
    help: 'Times the split-brain guard withdrew everything',
    registers: [this.registry],
  });
  readonly configLoaded = new Gauge({
    name: 'metalbeacon_speaker_config_loaded_bool',
    help: '1 when a valid configuration is in force',
    registers: [this.registry],
  });
  readonly configStale = new Gauge({
    name: 'metalbeacon_speaker_config_stale_bool',
    help: '1 when the newest configuration was rejected and the last good one runs',
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'metalbeacon_speaker_status_writes_total',
    help: 'Writes of ServiceL2Status / ServiceBGPStatus / BGPSessionState, by verb and result',
    labelNames: ['verb', 'result'] as const,
    registers: [this.registry],
  });
}
