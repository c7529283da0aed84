import { Histogram, Registry } from '../../shared/metrics/metrics.ts';
import { collectProcessMetrics } from '../../shared/metrics/process-metrics.ts';

/** The controller's Prometheus metrics, on a registry of its own (no global default registry). */
export class ControllerMetrics {
  readonly registry = new Registry();

  constructor() {
    // Process metrics (RSS, heap, event-loop lag) on our registry only.
    collectProcessMetrics(this.registry);
  }

  readonly addressesTotal = this.registry.gauge(
    'metalbeacon_allocator_addresses_total',
    'Usable addresses in the pool (exact up to 2^53; /64 pools read as a float)',
    ['pool', 'family'],
  );
  readonly addressesInUse = this.registry.gauge(
    'metalbeacon_allocator_addresses_in_use_total',
    'Addresses of the pool assigned to Services',
    ['pool', 'family'],
  );
  readonly allocationFailures = this.registry.counter(
    'metalbeacon_allocator_failures_total',
    'Failed allocations, by the reason of each refusing pool',
    ['reason'],
  );
  readonly reconciles = this.registry.counter(
    'metalbeacon_controller_reconciles_total',
    'Service reconciles, by result',
    ['result'],
  );
  readonly reconcileErrors = this.registry.counter(
    'metalbeacon_controller_reconcile_errors_total',
    'Reconciles that failed writing to the API server (retried)',
  );
  readonly reconcileDuration = new Histogram({
    name: 'metalbeacon_controller_reconcile_duration_seconds',
    help: 'Time to reconcile one Service, writes included',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly configLoaded = this.registry.gauge(
    'metalbeacon_controller_config_loaded_bool',
    '1 when a valid configuration is in force',
  );
  readonly configStale = this.registry.gauge(
    'metalbeacon_controller_config_stale_bool',
    '1 when the newest configuration was rejected and the last good one runs',
  );
  readonly configErrors = this.registry.gauge(
    'metalbeacon_controller_config_errors',
    'Errors in the newest configuration',
  );
  readonly isLeader = this.registry.gauge(
    'metalbeacon_controller_is_leader_bool',
    '1 while this replica holds the leader lease',
  );
}
