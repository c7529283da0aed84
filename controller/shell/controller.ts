import { hostname } from 'node:os';
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import { Annotations, API_VERSION, GROUP, PLURALS, VERSION } from '../../shared/api/names.ts';
import type { IPAddressPool, IPAddressPoolStatus } from '../../shared/api/resources.ts';
import { buildConfig } from '../../shared/config/build-config.ts';
import { nextConfig } from '../../shared/config/next-config.ts';
import { type Config, type ConfigError, formatConfigError } from '../../shared/config/types.ts';
import { CoalescingTask } from '../../shared/daemon/coalescing-task.ts';
import { type EndpointsServer, serveEndpoints } from '../../shared/daemon/endpoints.ts';
import { EventRecorder } from '../../shared/daemon/event-recorder.ts';
import type { HostPort } from '../../shared/daemon/host-port.ts';
import { InformerSet } from '../../shared/daemon/informer-set.ts';
import { trimMallocEvery } from '../../shared/daemon/malloc-trim.ts';
import type { Timers } from '../../shared/daemon/timers.ts';
import { isConflict, isNotFound, KubeClient } from '../../shared/k8s/client.ts';
import { Informer, type KubeObject } from '../../shared/k8s/informer.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { Allocator } from '../allocator/allocator.ts';
import { desiredPoolStatus, errorsByObject, objectKey, sameStatus } from '../reconcile/pools.ts';
import {
  cachedService,
  keyOf,
  reconcileService,
  restoreOrder,
  restoreService,
  type ServiceObject,
} from '../reconcile/service.ts';
import { LeaderElector } from './leader.ts';
import { gatedWrites, NotLeadingError, OPEN_GATE } from './leader-gate.ts';
import { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './work-queue.ts';

/** How `metalbeacon controller` runs; tests start it with the same options. */
export interface ControllerOptions {
  readonly client: KubeClient;
  /** Namespace of our CRs and of the Lease. */
  readonly namespace: string;
  /** `--lb-class`; undefined: only Services without a class. */
  readonly lbClass?: string | undefined;
  readonly leaderElect: boolean;
  /** Identity in the Lease; default hostname + pid. */
  readonly identity?: string;
  /** Where /metrics, /healthz, /readyz listen (`HOST:PORT` text or parsed); undefined: no server. */
  readonly metricsListen?: string | HostPort | undefined;
  readonly log: Logger;
  /** client-go's leaseDuration (whole seconds), renewDeadline and retryPeriod; default 15 s, 10 s, 2 s. */
  readonly lease?: { durationSec: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** Parallel API writes. */
  readonly concurrency?: number;
  /** Wall-clock milliseconds (timestamps written to the API). */
  readonly now?: () => number;
  /** Monotonic time and timers of the leader election (default: the process's). */
  readonly timers?: Timers;
  /**
   * Hands the memory malloc keeps after it was freed back to the kernel, every `intervalMs`
   * (default: malloc_trim through the native addon every 10 s; tests pass a function of their own).
   * Without it the private memory of a controller whose API server restarts grew for an hour
   * with a flat V8 heap (docs/adr/0004-kubernetes-client.md, Memory).
   */
  readonly mallocTrim?: { readonly intervalMs: number; readonly trim: () => boolean };
}

/** A running controller. */
export interface ControllerHandle {
  readonly metrics: ControllerMetrics;
  /** Where /metrics listens, when enabled. */
  readonly metricsAddress: string | undefined;
  isLeader(): boolean;
  /** Caches synced (and, when leading, every Service restored and queued). */
  ready(): boolean;
  /** Resolves when no Service is queued or being written and no event waits to be sent. */
  idle(): Promise<void>;
  /** Stops; `releaseLease: false` leaves the Lease held, as a crashed process would. */
  stop(options?: { releaseLease?: boolean }): Promise<void>;
}

const COMPONENT = 'metalbeacon-controller';

type PoolObject = IPAddressPool & KubeObject;

/** Starts informers, leader election, the work queue and the metrics server. */
export async function startController(options: ControllerOptions): Promise<ControllerHandle> {
  const { namespace, log } = options;
  const { client } = options;
  const now = options.now ?? Date.now;
  const metrics = new ControllerMetrics();
  const identity = options.identity ?? `${hostname()}_${process.pid}`;
  const lease = options.lease ?? { durationSec: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
  // Its own connections: Lease calls never queue behind the writes for a free socket.
  const leaseClient = options.leaderElect ? new KubeClient(client.connection) : undefined;
  // Created first: it is the gate of every write below, so none outlives leadership.
  const elector = leaseClient
    ? new LeaderElector({
        client: leaseClient,
        namespace,
        name: COMPONENT,
        identity,
        timing: {
          leaseDurationMs: lease.durationSec * 1000,
          renewDeadlineMs: lease.renewDeadlineMs,
          retryPeriodMs: lease.retryPeriodMs,
        },
        ...(options.timers ? { timers: options.timers } : {}),
        wallNow: now,
        log,
        onStartedLeading: activate,
        onStoppedLeading: deactivate,
      })
    : undefined;
  /** Service status, pool status and Events: refused once leadership is over. */
  const writes = gatedWrites(client, elector ?? OPEN_GATE);
  const recorder = new EventRecorder({
    client: writes,
    log,
    component: COMPONENT,
    now,
    aggregation: 'count',
  });

  let config: Config | undefined;
  let configErrors: readonly ConfigError[] = [];
  let configStale = false;
  /** Errors already reported as events: `Kind/ns/name` -> formatted messages. */
  const reportedErrors = new Map<string, string>();
  let allocator: Allocator | undefined;
  let leading = false;
  let restored = false;
  let stopped = false;
  /** key -> last failure fingerprint (see ReconcileResult.failureFingerprint) */
  const failures = new Map<string, string>();
  /** Keys that have no IP yet: retried when an IP frees up. */
  const pending = new Set<string>();
  /** key -> object returned by our last write, newer than the cache until the watch catches up */
  const written = new Map<string, V1Service>();

  const informers = new InformerSet({ log, stopping: () => stopped });
  const services = informers.add(
    'services',
    new Informer<V1Service>(client, '/api/v1/services', {
      trim: (service) => cachedService(service) as V1Service,
    }),
  );
  const namespaces = informers.add(
    'namespaces',
    new Informer<V1Namespace>(client, '/api/v1/namespaces', {
      trim: (ns) => ({
        metadata: {
          name: ns.metadata?.name,
          labels: ns.metadata?.labels,
          resourceVersion: ns.metadata?.resourceVersion,
        },
      }),
    }),
  );
  const poolsPath = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURALS.IPAddressPool}`;
  const pools = informers.add('ipaddresspools', new Informer<PoolObject>(client, poolsPath));

  const queue = new WorkQueue({
    concurrency: options.concurrency ?? 64,
    process: (key) => processKey(key),
    onError: (key, error, attempt) => {
      // Writes cut short by the end of leadership are not failures; the next leader redoes them.
      if (!leading) return;
      metrics.reconcileErrors.inc();
      log.warn({ service: key, attempt, err: describe(error) }, 'reconcile failed; will retry');
    },
  });

  function currentService(key: string): V1Service | undefined {
    const [ns, name] = splitKey(key);
    const cached = services.get(name, ns);
    const mine = written.get(key);
    if (!mine) return cached;
    if (!cached || cached.metadata?.uid !== mine.metadata?.uid) return cached ?? undefined;
    if (newerOrEqual(cached.metadata?.resourceVersion, mine.metadata?.resourceVersion)) {
      written.delete(key);
      return cached;
    }
    return mine;
  }

  function namespaceLabels(ns: string): Readonly<Record<string, string>> {
    return namespaces.get(ns)?.metadata?.labels ?? {};
  }

  async function processKey(key: string): Promise<void> {
    if (!leading || !allocator || stopped) return;
    const started = performance.now();
    const service = currentService(key);
    const result = reconcileService(
      { allocator, lbClass: options.lbClass, namespaceLabels, previousFailure: failures.get(key) },
      key,
      service as ServiceObject | undefined,
    );
    if (allocator.lookup(key) || !service) pending.delete(key);
    else if (service.spec?.type === 'LoadBalancer') pending.add(key);
    if (result.action === 'requeueAll') {
      for (const waiting of pending) if (waiting !== key) queue.add(waiting);
      schedulePoolStatus();
    }
    /**
     * Events (and the failure fingerprint that keeps them from repeating) only once the status
     * they describe is written: a write that fails (409 Conflict) is retried, and the retry
     * reports them, instead of losing them.
     */
    const report = (): void => {
      if (result.failureFingerprint === undefined) failures.delete(key);
      else failures.set(key, result.failureFingerprint);
      if (result.failureFingerprint !== undefined && result.events.length > 0) {
        for (const failure of result.failures) metrics.allocationFailures.inc({ reason: failure.reason });
      }
      for (const event of result.events) {
        recorder.post(
          {
            apiVersion: 'v1',
            kind: 'Service',
            namespace: service?.metadata?.namespace ?? '',
            name: service?.metadata?.name ?? '',
            uid: service?.metadata?.uid,
          },
          event,
        );
      }
    };
    if (service && (result.desired.ingress !== undefined || result.desired.poolAnnotation !== undefined)) {
      await writeService(key, service, result.desired.ingress, result.desired.poolAnnotation, report);
      schedulePoolStatus();
    } else report();
    metrics.reconciles.inc({ result: result.failureFingerprint ? 'failed' : 'ok' });
    metrics.reconcileDuration.observe((performance.now() - started) / 1000);
  }

  /** Status first (what speakers and users read), then the informational annotation, then `onStatusWritten`. */
  async function writeService(
    key: string,
    service: V1Service,
    ingress: readonly string[] | undefined,
    poolAnnotation: string | null | undefined,
    onStatusWritten: () => void,
  ): Promise<void> {
    const [ns, name] = splitKey(key);
    // Once the status is out, its events are due, even if the annotation write fails after it.
    let statusWritten = ingress === undefined;
    try {
      if (ingress !== undefined) {
        const latest = await writes.patch<V1Service>(`${servicePath(ns, name)}/status`, {
          // The resourceVersion makes the patch conditional: a stale view gets 409 Conflict.
          metadata: { resourceVersion: service.metadata?.resourceVersion },
          status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
        });
        written.set(key, cachedService(latest) as V1Service);
        statusWritten = true;
      }
      if (poolAnnotation !== undefined) {
        // After the status, so it cannot make the conditional status write conflict; a merge
        // of one informational key needs no precondition.
        const latest = await writes.patch<V1Service>(servicePath(ns, name), {
          metadata: { annotations: { [Annotations.IpAllocatedFromPool]: poolAnnotation } },
        });
        written.set(key, cachedService(latest) as V1Service);
      }
    } catch (error) {
      if (statusWritten) onStatusWritten();
      if (isNotFound(error)) return; // deleted meanwhile; the DELETE event follows
      if (isConflict(error)) {
        // Someone changed the Service: read it again and reconcile that version.
        try {
          written.set(key, cachedService(await client.get<V1Service>(servicePath(ns, name))) as V1Service);
        } catch (readError) {
          if (isNotFound(readError)) return;
        }
      }
      throw error;
    }
    onStatusWritten();
  }

  // ---- configuration --------------------------------------------------------------------------

  function rebuildConfig(): void {
    const result = buildConfig(
      {
        pools: pools.list() as IPAddressPool[],
        namespaces: namespaces.list().map((n) => ({
          metadata: { name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} },
        })),
      },
      { namespace },
    );
    const next = nextConfig(config, result);
    // Status writes and unrelated edits rebuild an equal config: only real pool changes count.
    const changed = next.config !== config && poolsFingerprint(next.config) !== poolsFingerprint(config);
    config = next.config;
    configErrors = next.errors;
    configStale = next.stale;
    metrics.configLoaded.set(config ? 1 : 0);
    metrics.configStale.set(next.stale ? 1 : 0);
    metrics.configErrors.set(next.errors.length);
    if (next.errors.length > 0) {
      log.warn(
        { errors: next.errors.map(formatConfigError) },
        'configuration rejected; the last good one stays',
      );
    }
    reportConfigErrors();
    if (changed && allocator && config) {
      const change = allocator.setPools(config.pools);
      log.info({ pools: config.pools.length, ...change }, 'pools changed');
      requeueEverything();
    }
    schedulePoolStatus();
  }

  function reportConfigErrors(): void {
    if (!leading) return;
    const byObject = errorsByObject(configErrors);
    for (const [key, errors] of byObject) {
      const text = errors.map(formatConfigError).join('; ');
      if (reportedErrors.get(key) === text) continue;
      reportedErrors.set(key, text);
      const first = errors[0]!;
      const uid =
        first.kind === 'IPAddressPool' ? pools.get(first.name, first.namespace)?.metadata?.uid : undefined;
      recorder.post(
        {
          apiVersion: first.kind === 'Namespace' ? 'v1' : API_VERSION,
          kind: first.kind,
          namespace: first.namespace ?? namespace,
          name: first.name,
          uid,
        },
        {
          type: 'Warning',
          reason: 'ConfigurationError',
          message: `${text}; the last good configuration stays in force`,
        },
      );
    }
    for (const key of [...reportedErrors.keys()]) if (!byObject.has(key)) reportedErrors.delete(key);
  }

  // ---- pool status ----------------------------------------------------------------------------

  const poolStatus = new CoalescingTask({
    delayMs: 200,
    retryMs: 1000,
    run: () => writePoolStatuses(),
    onError: (error) => log.warn({ err: describe(error) }, 'could not write pool statuses; retrying'),
  });

  function schedulePoolStatus(): void {
    if (leading) poolStatus.schedule();
  }

  async function writePoolStatuses(): Promise<void> {
    if (!allocator || !leading) return;
    const byObject = errorsByObject(configErrors);
    metrics.addressesTotal.reset();
    metrics.addressesInUse.reset();
    for (const pool of allocator.pools) {
      const counts = allocator.counts(pool.name)!;
      for (const family of ['IPv4', 'IPv6'] as const) {
        if (!pool.ranges.some((r) => r.family === family)) continue;
        metrics.addressesTotal.set(
          { pool: pool.name, family },
          Number(counts.available[family] + counts.assigned[family]),
        );
        metrics.addressesInUse.set({ pool: pool.name, family }, Number(counts.assigned[family]));
      }
    }
    const inForce = allocator;
    for (const object of pools.list()) {
      // A write awaits: leadership (and with it the allocator) may have ended meanwhile.
      if (allocator !== inForce || !leading) return;
      const name = object.metadata?.name ?? '';
      const errors = byObject.get(objectKey('IPAddressPool', object.metadata?.namespace, name)) ?? [];
      const desired = desiredPoolStatus({
        allocator: inForce,
        name,
        generation: object.metadata?.generation,
        errors,
        stale: configStale,
        previous: object.status,
        nowIso: new Date(now()).toISOString(),
      });
      if (sameStatus(object.status, desired)) continue;
      const body: { status: Record<string, unknown> } = {
        status: {
          assignedIPv4: null,
          assignedIPv6: null,
          availableIPv4: null,
          availableIPv6: null,
          ...(desired as IPAddressPoolStatus),
        },
      };
      try {
        await writes.patch(`${poolsPath}/${name}/status`, body);
      } catch (error) {
        if (error instanceof NotLeadingError) return;
        if (!isNotFound(error)) log.warn({ pool: name, err: describe(error) }, 'could not write pool status');
      }
    }
  }

  // ---- leadership -----------------------------------------------------------------------------

  function requeueEverything(): void {
    if (!leading) return;
    for (const service of restoreOrder(services.list() as ServiceObject[])) queue.add(keyOf(service));
  }

  /** Restore every assignment visible in status before serving anyone, then queue everything. */
  function activate(): void {
    if (stopped) return;
    leading = true;
    metrics.isLeader.set(1);
    allocator = new Allocator(config?.pools ?? []);
    // `failures` survives a lost-and-regained leadership: an unchanged failure is not reported again.
    pending.clear();
    const ordered = restoreOrder(services.list() as ServiceObject[]);
    let restoredCount = 0;
    for (const service of ordered) {
      const ips = service.status?.loadBalancer?.ingress ?? [];
      if (ips.length === 0) break;
      // Pure and synchronous: every status IP is claimed before any pending Service is served.
      const context = { allocator, lbClass: options.lbClass, namespaceLabels, previousFailure: undefined };
      if (restoreService(context, service)) restoredCount++;
    }
    log.info(
      { restored: restoredCount, services: ordered.length },
      'restored assignments from Service status',
    );
    restored = true;
    reportedErrors.clear();
    reportConfigErrors();
    for (const service of ordered) queue.add(keyOf(service));
    queue.resume();
    schedulePoolStatus();
  }

  function deactivate(): void {
    leading = false;
    restored = false;
    metrics.isLeader.set(0);
    queue.pause();
    queue.clear();
    // Events decided as leader can no longer be written; the next leader decides its own.
    recorder.discard();
    allocator = undefined;
  }

  // ---- informers ------------------------------------------------------------------------------

  informers.onChange(services, (service) => {
    const key = keyOf(service as ServiceObject);
    const [ns, name] = splitKey(key);
    if (!services.get(name, ns)) {
      // Deleted: nothing kept per Service may outlive it (Services come and go by the thousand).
      written.delete(key);
      failures.delete(key);
      recorder.forgetObject({ kind: 'Service', namespace: ns, name });
    }
    // The cache caught up with our last write: drop the overlay copy.
    const mine = written.get(key);
    if (mine && newerOrEqual(service.metadata?.resourceVersion, mine.metadata?.resourceVersion))
      written.delete(key);
    if (leading) queue.add(key);
  });
  /** namespace -> its labels as last seen, to requeue only on label changes */
  const namespaceLabelsSeen = new Map<string, string>();
  informers.onChange(namespaces, (object) => {
    const name = object.metadata?.name ?? '';
    if (!namespaces.get(name)) {
      // Deleted (its Services go with it): forgotten, no requeue, as before it was remembered.
      namespaceLabelsSeen.delete(name);
      recorder.forgetObject({ kind: 'Namespace', namespace, name });
      return;
    }
    const labels = JSON.stringify(object.metadata?.labels ?? {});
    if (namespaceLabelsSeen.get(name) === labels) return;
    namespaceLabelsSeen.set(name, labels);
    rebuildConfig();
    requeueEverything();
  });
  informers.onChange(pools, (object) => {
    const name = object.metadata?.name ?? '';
    if (!pools.get(name, object.metadata?.namespace))
      recorder.forgetObject({ kind: 'IPAddressPool', namespace, name });
    rebuildConfig();
  });

  // Before the informers: while their first LISTs fail, /healthz says the process lives and
  // /readyz that it is not ready.
  let metricsServer: EndpointsServer | undefined;
  const ready = (): boolean => informers.synced && (!leading || restored) && !stopped;
  if (options.metricsListen !== undefined) {
    metricsServer = await serveEndpoints({
      listen: options.metricsListen,
      registry: metrics.registry,
      ready,
      onError: (error) => log.warn({ err: describe(error) }, 'metrics endpoint error'),
    });
    log.info({ address: metricsServer.address }, 'serving /metrics, /healthz, /readyz');
  }

  await informers.start();
  const stopTrimming = trimMallocEvery(options.mallocTrim?.intervalMs, options.mallocTrim?.trim);
  for (const object of namespaces.list()) {
    namespaceLabelsSeen.set(object.metadata?.name ?? '', JSON.stringify(object.metadata?.labels ?? {}));
  }
  rebuildConfig();
  log.info(
    { services: services.list().length, pools: pools.list().length, configLoaded: config !== undefined },
    'caches synced',
  );

  if (elector) elector.start();
  else activate();

  return {
    metrics,
    metricsAddress: metricsServer?.address,
    isLeader: () => leading,
    ready,
    idle: async () => {
      await queue.idle();
      await recorder.drained();
    },
    async stop(stopOptions = {}) {
      if (stopped) return;
      stopped = true;
      queue.stop();
      void poolStatus.stop();
      // Events already decided are still sent (bounded), so none is lost or sent twice later.
      if (stopOptions.releaseLease !== false) await recorder.drained(5_000);
      else recorder.discard();
      await elector?.stop(stopOptions.releaseLease ?? true);
      leaseClient?.close();
      leading = false;
      informers.stop();
      stopTrimming();
      await metricsServer?.close();
    },
  };
}

/** Everything of the pools that matters to allocation, as text. */
function poolsFingerprint(config: Config | undefined): string {
  if (!config) return '';
  return JSON.stringify(config.pools, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

function servicePath(namespace: string, name: string): string {
  return `/api/v1/namespaces/${namespace}/services/${name}`;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** Compares resourceVersions numerically when both are integers (etcd revisions are). */
function newerOrEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a !== undefined;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}
