import { Counter, Gauge, Histogram, Registry } from '../../shared/metrics/metrics.ts';
import { collectProcessMetrics } from '../../shared/metrics/process-metrics.ts';

/** The controller's Prometheus metrics, on a registry of its own (no global default registry). */
export class ControllerMetrics {
  readonly registry = new Registry();

  constructor() {
    // Process metrics (RSS, heap, event-loop lag) on our registry only.
    collectProcessMetrics(this.registry);
  }

  readonly addressesTotal = new Gauge({
    name: 'metalbeacon_allocator_addresses_total',
    help: 'Usable addresses in the pool (exact up to 2^53; /64 pools read as a float)',
    labelNames: ['pool', 'family'] as const,
    registers: [this.registry],
  });
  readonly addressesInUse = new Gauge({
    name: 'metalbeacon_allocator_addresses_in_use_total',
    help: 'Addresses of the pool assigned to Services',
    labelNames: ['pool', 'family'] as const,
    registers: [this.registry],
  });
  readonly allocationFailures = new Counter({
    name: 'metalbeacon_allocator_failures_total',
    help: 'Failed allocations, by the reason of each refusing pool',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly reconciles = new Counter({
    name: 'metalbeacon_controller_reconciles_total',
    help: 'Service reconciles, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'metalbeacon_controller_reconcile_errors_total',
    help: 'Reconciles that failed writing to the API server (retried)',
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'metalbeacon_controller_reconcile_duration_seconds',
    help: 'Time to reconcile one Service, writes included',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly configLoaded = new Gauge({
    name: 'metalbeacon_controller_config_loaded_bool',
    help: '1 when a valid configuration is in force',
    registers: [this.registry],
  });
  readonly configStale = new Gauge({
    name: 'metalbeacon_controller_config_stale_bool',
    help: '1 when the newest configuration was rejected and the last good one runs',
    registers: [this.registry],
  });
  readonly configErrors = new Gauge({
    name: 'metalbeacon_controller_config_errors',
    help: 'Errors in the newest configuration',
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: 'metalbeacon_controller_is_leader_bool',
    help: '1 while this replica holds the leader lease',
    registers: [this.registry],
  });
}
