import { Registry } from '../../shared/metrics/metrics.ts';
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

  readonly announcedServices = this.registry.gauge(
    'metalbeacon_speaker_announced_services',
    'Services this node announces, by protocol (layer2, bgp)',
    ['protocol'],
  );
  readonly announcedIps = this.registry.gauge(
    'metalbeacon_speaker_announced_ips',
    'IPs this node answers ARP/NDP for (layer2) or prefixes it advertises (bgp)',
    ['protocol'],
  );
  readonly plansApplied = this.registry.counter(
    'metalbeacon_speaker_plans_applied_total',
    'Plans computed and applied (only differences reach the announcers)',
  );
  readonly announceFailures = this.registry.counter(
    'metalbeacon_speaker_announce_failures_total',
    'Announcements that failed, by protocol',
    ['protocol'],
  );
  readonly isolated = this.registry.gauge(
    'metalbeacon_speaker_isolated_bool',
    '1 while the split-brain guard withholds every announcement (no peer alive and no API server)',
  );
  readonly isolations = this.registry.counter(
    'metalbeacon_speaker_isolations_total',
    'Times the split-brain guard withdrew everything',
  );
  readonly configLoaded = this.registry.gauge(
    'metalbeacon_speaker_config_loaded_bool',
    '1 when a valid configuration is in force',
  );
  readonly configStale = this.registry.gauge(
    'metalbeacon_speaker_config_stale_bool',
    '1 when the newest configuration was rejected and the last good one runs',
  );
  readonly statusWrites = this.registry.counter(
    'metalbeacon_speaker_status_writes_total',
    'Writes of ServiceL2Status / ServiceBGPStatus / BGPSessionState, by verb and result',
    ['verb', 'result'],
  );
}
