import { Annotations } from '../../shared/api/names.ts';
import { compareText } from '../../shared/config/names.ts';
import { formatIp, type IpFamily, type IpValue, parseIp } from '../../shared/net/ip.ts';
import type { Allocator, Refusal, ServiceFacts } from '../allocator/allocator.ts';
import { converge } from '../allocator/converge.ts';

/**
 * Reconcile of one Service (pure): from the Service as the cache holds it and the allocator's
 * state, decide the desired `status.loadBalancer.ingress`, the pool annotation, the events and
 * whether other Services must be looked at again. Level-triggered and idempotent: the shell
 * calls it with a key whenever anything might have changed, and writes only differences.
 */

/** The subset of a core/v1 Service the controller reads (structurally a V1Service). */
export interface ServiceObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>> | undefined;
    readonly annotations?: Readonly<Record<string, string>> | undefined;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly generation?: number;
  };
  readonly spec?: {
    readonly type?: string;
    readonly loadBalancerClass?: string | undefined;
    readonly loadBalancerIP?: string | undefined;
    readonly ipFamilies?: readonly string[] | undefined;
    readonly ipFamilyPolicy?: string | undefined;
    readonly clusterIP?: string | undefined;
    readonly clusterIPs?: readonly string[] | undefined;
    readonly externalTrafficPolicy?: string | undefined;
    readonly selector?: Readonly<Record<string, string>> | undefined;
    readonly ports?: readonly { readonly protocol?: string | undefined; readonly port: number }[] | undefined;
  };
  readonly status?: {
    readonly loadBalancer?: {
      readonly ingress?: readonly { readonly ip?: string | undefined }[] | undefined;
    };
  };
}

/**
 * The Service reduced to ServiceObject's fields (and of the annotations only ours), as the
 * controller caches it: 10,000 Services with managedFields and kubectl's last-applied copies
 * would otherwise cost tens of MB for fields the controller never reads.
 */
export function cachedService(service: ServiceObject): ServiceObject {
  const { metadata: m, spec: s, status } = service;
  let annotations: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(m?.annotations ?? {})) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    annotations ??= {};
    annotations[key] = value;
  }
  return {
    metadata: {
      name: m?.name,
      namespace: m?.namespace,
      uid: m?.uid,
      resourceVersion: m?.resourceVersion,
      generation: m?.generation,
      labels: m?.labels,
      annotations,
    },
    spec: {
      type: s?.type,
      loadBalancerClass: s?.loadBalancerClass,
      loadBalancerIP: s?.loadBalancerIP,
      ipFamilies: s?.ipFamilies,
      ipFamilyPolicy: s?.ipFamilyPolicy,
      clusterIP: s?.clusterIP,
      clusterIPs: s?.clusterIPs,
      externalTrafficPolicy: s?.externalTrafficPolicy,
      selector: s?.selector,
      ports: s?.ports?.map(({ protocol, port }) => ({ protocol, port })),
    },
    status: { loadBalancer: { ingress: status?.loadBalancer?.ingress?.map(({ ip }) => ({ ip })) } },
  };
}
const ANNOTATION_PREFIX = `${Annotations.AddressPool.split('/')[0]}/`;

/** Event reasons on Services (MetalLB's names). */
export const EventReason = {
  IPAllocated: 'IPAllocated',
  AllocationFailed: 'AllocationFailed',
  ClearAssignment: 'ClearAssignment',
  LoadBalancerFailed: 'LoadBalancerFailed',
  AdditionalAssignFailed: 'AdditionalAssignFailed',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** An event to post on the Service. */
export interface ServiceEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: EventReason;
  readonly message: string;
}

/** What the status and annotation should be; `undefined` fields mean "leave as is". */
export interface DesiredService {
  /** New `status.loadBalancer.ingress` IPs, when they differ from the current ones. */
  readonly ingress: readonly string[] | undefined;
  /** New value of the pool annotation (null: remove it), when it differs. */
  readonly poolAnnotation: string | null | undefined;
}

/**
 * `done`: nothing more to do; `requeueAll`: IPs were freed, so pending Services may now get
 * one (MetalLB's reprocessAll).
 */
export type ReconcileAction = 'done' | 'requeueAll';

export interface ReconcileResult {
  readonly desired: DesiredService;
  readonly events: readonly ServiceEvent[];
  readonly action: ReconcileAction;
  /** Allocation failures by reason (for the metric). */
  readonly failures: readonly Refusal[];
  /**
   * Fingerprint of the current failure (undefined when none). The shell keeps it per key and
   * passes it back, so a failure that did not change is not reported again on every retry,
   * relist or restart of the API server.
   */
  readonly failureFingerprint: string | undefined;
}

export interface ReconcileContext {
  readonly allocator: Allocator;
  /** `--lb-class`: undefined means "Services without a class only". */
  readonly lbClass: string | undefined;
  readonly namespaceLabels: (namespace: string) => Readonly<Record<string, string>>;
  /** The fingerprint returned by the previous reconcile of this key. */
  readonly previousFailure: string | undefined;
}

/** Whether the Service is ours by `spec.loadBalancerClass` and `--lb-class`. */
export function isOurClass(service: ServiceObject, lbClass: string | undefined): boolean {
  const cls = service.spec?.loadBalancerClass;
  return lbClass === undefined ? cls === undefined || cls === null : cls === lbClass;
}

/** The IPs in `status.loadBalancer.ingress` that parse (hostnames are ignored). */
export function statusIps(service: ServiceObject): IpValue[] {
  const out: IpValue[] = [];
  for (const entry of service.status?.loadBalancer?.ingress ?? []) {
    const parsed = entry.ip ? parseIp(entry.ip) : undefined;
    if (parsed) out.push(parsed);
  }
  return out;
}

/** `namespace/name` of an object. */
export function keyOf(service: ServiceObject): string {
  return `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`;
}

/** Parses the requested IPs; both annotation and spec.loadBalancerIP set is an error. */
export function requestedIps(
  service: ServiceObject,
): { ok: true; ips: IpValue[] | undefined } | { ok: false; message: string } {
  const annotation = service.metadata?.annotations?.[Annotations.LoadBalancerIPs];
  const field = service.spec?.loadBalancerIP;
  const hasAnnotation = annotation !== undefined && annotation.trim() !== '';
  const hasField = field !== undefined && field !== null && field !== '';
  if (hasAnnotation && hasField) {
    return {
      ok: false,
      message: `both annotation ${Annotations.LoadBalancerIPs} and spec.loadBalancerIP are set; use only the annotation`,
    };
  }
  if (!hasAnnotation && !hasField) return { ok: true, ips: undefined };
  const texts = hasAnnotation ? annotation.split(',').map((t) => t.trim()) : [field as string];
  const ips: IpValue[] = [];
  for (const text of texts) {
    const parsed = parseIp(text);
    if (!parsed) {
      const where = hasAnnotation ? `annotation ${Annotations.LoadBalancerIPs}` : 'spec.loadBalancerIP';
      return { ok: false, message: `${where}: "${text}" is not an IP address` };
    }
    ips.push(parsed);
  }
  return { ok: true, ips };
}

/** The allocator's view of a Service. */
export function serviceFacts(
  service: ServiceObject,
  namespaceLabels: Readonly<Record<string, string>>,
): ServiceFacts {
  const spec = service.spec ?? {};
  const annotations = service.metadata?.annotations ?? {};
  const families = familiesOf(service);
  const policy = spec.ipFamilyPolicy;
  const familyPolicy =
    policy === 'PreferDualStack' || policy === 'RequireDualStack' ? policy : ('SingleStack' as const);
  const local = spec.externalTrafficPolicy === 'Local';
  const selector = Object.entries(spec.selector ?? {})
    .sort(([a], [b]) => compareText(a, b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const sharingKey = annotations[Annotations.AllowSharedIp];
  const pool = annotations[Annotations.AddressPool];
  return {
    key: keyOf(service),
    namespace: service.metadata?.namespace ?? '',
    namespaceLabels,
    labels: service.metadata?.labels ?? {},
    families,
    familyPolicy,
    pool: pool === undefined || pool === '' ? undefined : pool,
    sharingKey: sharingKey === undefined || sharingKey === '' ? undefined : sharingKey,
    // ETP Local sharers must select the same pods (their traffic stays on the same nodes).
    backendKey: local ? `local:${selector}` : '',
    ports: (spec.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })),
  };
}

function familiesOf(service: ServiceObject): IpFamily[] {
  const declared = (service.spec?.ipFamilies ?? []).filter(
    (f): f is IpFamily => f === 'IPv4' || f === 'IPv6',
  );
  if (declared.length > 0) return declared;
  const fromClusterIps = (service.spec?.clusterIPs ?? [service.spec?.clusterIP ?? ''])
    .map((text) => parseIp(text)?.family)
    .filter((f): f is IpFamily => f !== undefined);
  return fromClusterIps.length > 0 ? fromClusterIps : ['IPv4'];
}

function describeRefusals(refusals: readonly Refusal[]): string {
  return refusals
    .map((r) => (r.pool ? `pool ${r.pool}: ${r.reason}: ${r.message}` : `${r.reason}: ${r.message}`))
    .join('; ');
}

function desiredFor(
  service: ServiceObject,
  ips: readonly IpValue[],
  pool: string | undefined,
): DesiredService {
  const currentIngress = (service.status?.loadBalancer?.ingress ?? []).map((e) => e.ip ?? '');
  const wantIngress = ips.map(formatIp);
  const sameIngress =
    currentIngress.length === wantIngress.length && currentIngress.every((ip, i) => ip === wantIngress[i]);
  const currentPool = service.metadata?.annotations?.[Annotations.IpAllocatedFromPool];
  const wantPool = pool ?? null;
  const samePool = (currentPool ?? null) === wantPool;
  return { ingress: sameIngress ? undefined : wantIngress, poolAnnotation: samePool ? undefined : wantPool };
}

const NOTHING: DesiredService = { ingress: undefined, poolAnnotation: undefined };

/**
 * Reconciles one Service. `service` undefined means it is gone from the cache (deleted).
 * Mutates only the allocator; everything else is in the result.
 */
export function reconcileService(
  context: ReconcileContext,
  key: string,
  service: ServiceObject | undefined,
): ReconcileResult {
  const { allocator } = context;
  const heldBefore = allocator.lookup(key) !== undefined;
  const released = (): ReconcileAction => {
    allocator.release(key);
    return heldBefore ? 'requeueAll' : 'done';
  };
  const result = (
    desired: DesiredService,
    events: ServiceEvent[],
    action: ReconcileAction,
    failures: readonly Refusal[] = [],
    fingerprint?: string,
  ): ReconcileResult => {
    // Report a failure once; repeat it only when it changes.
    const fresh = events.filter(
      (e) => e.type === 'Normal' || fingerprint === undefined || fingerprint !== context.previousFailure,
    );
    return { desired, events: fresh, action, failures, failureFingerprint: fingerprint };
  };

  if (!service) return result(NOTHING, [], released());
  // Another controller's Service: forget it, never touch its status.
  if (!isOurClass(service, context.lbClass)) return result(NOTHING, [], released());

  if (service.spec?.type !== 'LoadBalancer') {
    const action = released();
    const hadOurs = service.metadata?.annotations?.[Annotations.IpAllocatedFromPool] !== undefined;
    if (!hadOurs && !heldBefore) return result(NOTHING, [], action);
    return result(desiredFor(service, [], undefined), [], action);
  }

  const facts = serviceFacts(service, context.namespaceLabels(service.metadata?.namespace ?? ''));
  const requested = requestedIps(service);
  if (!requested.ok) {
    const action = released();
    const message = requested.message;
    return result(
      desiredFor(service, [], undefined),
      [{ type: 'Warning', reason: EventReason.LoadBalancerFailed, message }],
      action,
      [{ pool: undefined, reason: 'WrongFamily', message }],
      `${EventReason.LoadBalancerFailed}:${message}`,
    );
  }

  // Events speak of what users see: the IPs in status. After a status write that failed (a 409
  // Conflict) the allocator holds IPs nobody was told about: they are announced when the retry
  // publishes them, and clearing them is no news.
  const published = statusIps(service);
  const outcome = converge(allocator, facts, published, requested.ips);
  const events: ServiceEvent[] = [];
  let action: ReconcileAction = 'done';
  if (outcome.cleared) action = 'requeueAll';
  if (outcome.cleared && published.length > 0) {
    events.push({
      type: 'Normal',
      reason: EventReason.ClearAssignment,
      message: `cleared ${outcome.cleared.ips.map(formatIp).join(', ')}: ${outcome.cleared.refusal.message}`,
    });
  }
  if (!outcome.assignment) {
    if (heldBefore) action = 'requeueAll';
    const reason = requested.ips ? EventReason.LoadBalancerFailed : EventReason.AllocationFailed;
    const message = requested.ips
      ? `cannot assign requested ${requested.ips.map(formatIp).join(', ')}: ${describeRefusals(outcome.refusals)}`
      : `no IP available: ${describeRefusals(outcome.refusals)}`;
    events.push({ type: 'Warning', reason, message });
    return result(
      desiredFor(service, [], undefined),
      events,
      action,
      outcome.refusals,
      `${reason}:${message}`,
    );
  }
  const announced = outcome.assignment.ips.filter(
    (ip) => !published.some((p) => p.family === ip.family && p.value === ip.value),
  );
  if (announced.length > 0) {
    const all = outcome.assignment.ips.length === announced.length;
    events.push({
      type: 'Normal',
      reason: EventReason.IPAllocated,
      message: `Assigned ${all ? 'IP' : 'additional IP'} ${announced.map(formatIp).join(', ')} from pool ${outcome.assignment.pool}`,
    });
  }
  let fingerprint: string | undefined;
  if (outcome.additionalRefusals.length > 0) {
    const message = `kept ${outcome.assignment.ips.map(formatIp).join(', ')}; cannot add the other family: ${describeRefusals(outcome.additionalRefusals)}`;
    fingerprint = `${EventReason.AdditionalAssignFailed}:${message}`;
    if (fingerprint !== context.previousFailure) {
      events.push({ type: 'Normal', reason: EventReason.AdditionalAssignFailed, message });
    }
  }
  return {
    desired: desiredFor(service, outcome.assignment.ips, outcome.assignment.pool),
    events,
    action,
    failures: outcome.additionalRefusals,
    failureFingerprint: fingerprint,
  };
}

/**
 * The order in which Services are reconciled at start: every Service that already shows IPs
 * in its status first (so its IPs are restored before anyone else can take them — MetalLB
 * #1774, #2443), then the rest; by key within each group for determinism.
 * Among those with IPs, Services with an allow-shared-ip key come first: when two status
 * holders of one IP no longer fit together because one lost its key while no controller ran,
 * the one without a key is the one that changed (a Service without a key never shares), so
 * the other keeps the IP — as it would had the controller seen the change.
 */
export function restoreOrder<S extends ServiceObject>(services: readonly S[]): S[] {
  const group = (s: S): number => {
    if (statusIps(s).length === 0) return 2;
    const key = s.metadata?.annotations?.[Annotations.AllowSharedIp];
    return key === undefined || key === '' ? 1 : 0;
  };
  return [...services].sort(
    (a, b) => group(a) - group(b) || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0),
  );
}

/**
 * Start-up restore of one Service: claims exactly the IPs its status shows, if they are still
 * allowed, and nothing else (no new allocation: that waits until every Service with IPs in its
 * status has been restored). Returns whether the IPs were claimed.
 */
export function restoreService(context: ReconcileContext, service: ServiceObject): boolean {
  if (!isOurClass(service, context.lbClass) || service.spec?.type !== 'LoadBalancer') return false;
  const ips = statusIps(service);
  if (ips.length === 0) return false;
  const requested = requestedIps(service);
  if (!requested.ok) return false;
  const facts = serviceFacts(service, context.namespaceLabels(service.metadata?.namespace ?? ''));
  return context.allocator.assign(facts, ips, { allowPartial: requested.ips === undefined }).ok;
}
