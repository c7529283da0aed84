import type { CoreV1Event } from '@kubernetes/client-node';
import type { MetalBeaconKind } from '../api/names.ts';
import { GROUP, PLURALS, VERSION } from '../api/names.ts';
import type { BGPSessionState, IPAddressPool, ServiceBGPStatus, ServiceL2Status } from '../api/resources.ts';
import type { EventInput, ServiceInput, StatusInput } from '../status/report.ts';
import { ApiError, apiStatus, isNotFound, isRefused, type KubeClient } from './client.ts';

/** The kinds `metalbeacon status` lists from the MetalBeacon namespace. */
export const STATUS_KINDS = [
  'IPAddressPool',
  'ServiceL2Status',
  'ServiceBGPStatus',
  'BGPSessionState',
] as const;

/**
 * Why `metalbeacon status` cannot show the cluster: `crds-missing` (our CRDs are not installed),
 * `refused` (401/403 on a list), `failed` (any other failure of a list).
 */
export class StatusListError extends Error {
  readonly code = 'ERR_STATUS_LIST';
  readonly reason: 'crds-missing' | 'refused' | 'failed';
  constructor(reason: StatusListError['reason'], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StatusListError';
    this.reason = reason;
  }
}

/** The server's own message for an ApiError, else the error's first line. */
function serverMessage(error: unknown): string {
  if (error instanceof ApiError) return error.serverMessage;
  return error instanceof Error ? (error.message.split('\n')[0] ?? String(error)) : String(error);
}

function toIso(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return typeof value === 'string' ? value : undefined;
}

/** The Event fields the report reads, times as RFC 3339 strings. */
export function eventInput(e: CoreV1Event): EventInput {
  return {
    metadata: { creationTimestamp: toIso(e.metadata?.creationTimestamp) },
    involvedObject: {
      kind: e.involvedObject?.kind,
      namespace: e.involvedObject?.namespace,
      name: e.involvedObject?.name,
      uid: e.involvedObject?.uid,
    },
    type: e.type,
    reason: e.reason,
    message: e.message,
    firstTimestamp: toIso(e.firstTimestamp),
    lastTimestamp: toIso(e.lastTimestamp),
    eventTime: toIso(e.eventTime),
  };
}

/** The field selector of the Events `metalbeacon status` reads: Warnings about Services. */
export const SERVICE_WARNINGS = 'involvedObject.kind=Service,type=Warning';

/**
 * Lists what `metalbeacon status` shows: LoadBalancer Services and their Warning events in every
 * namespace, pools and status objects in `namespace`. A missing CRD (404 on the list) or a
 * refused list (403) becomes one StatusListError naming what is missing or refused.
 */
export async function listStatusObjects(
  client: KubeClient,
  namespace: string,
  lbClass: string | undefined,
): Promise<StatusInput> {
  const listCustom = async (kind: (typeof STATUS_KINDS)[number]): Promise<unknown[]> => {
    const list = await client.list<unknown>(
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURALS[kind]}`,
    );
    return list.items ?? [];
  };

  const results = await Promise.allSettled([
    client.list<ServiceInput>('/api/v1/services'),
    ...STATUS_KINDS.map((kind) => listCustom(kind)),
  ]);

  const missing: MetalBeaconKind[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const what = i === 0 ? 'services' : `${PLURALS[STATUS_KINDS[i - 1]!]}.${GROUP}`;
    if (i > 0 && isNotFound(r.reason)) {
      missing.push(STATUS_KINDS[i - 1]!);
      return;
    }
    throw refused(what, r.reason, i === 0 ? undefined : namespace);
  });
  if (missing.length > 0) {
    const crds = missing.map((k) => `${PLURALS[k]}.${GROUP}`).join(', ');
    throw new StatusListError(
      'crds-missing',
      missing.length === STATUS_KINDS.length
        ? `the MetalBeacon CRDs are not installed in this cluster (${crds} not found)`
        : `MetalBeacon CRD${missing.length > 1 ? 's' : ''} ${crds} not installed in this cluster`,
    );
  }

  const [services, pools, l2, bgp, sessions] = results.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [{ items: ServiceInput[] }, IPAddressPool[], ServiceL2Status[], ServiceBGPStatus[], BGPSessionState[]];
  const lbServices = services.items.filter((s) => s.spec?.type === 'LoadBalancer');

  // Failure events matter only for Services without an IP; skip the list when there are none.
  let events: EventInput[] = [];
  if (lbServices.some((s) => !(s.status?.loadBalancer?.ingress ?? []).some((i) => i.ip))) {
    try {
      const list = await client.list<CoreV1Event>('/api/v1/events', {
        fieldSelector: SERVICE_WARNINGS,
      });
      events = list.items.map(eventInput);
    } catch (error) {
      throw refused('events', error, undefined);
    }
  }

  return {
    namespace,
    lbClass,
    services: lbServices,
    events,
    pools,
    l2Statuses: l2,
    bgpStatuses: bgp,
    sessions,
  };
}

function refused(what: string, error: unknown, namespace: string | undefined): StatusListError {
  const where = namespace ? ` in namespace ${namespace}` : ' in all namespaces';
  if (isRefused(error)) {
    return new StatusListError(
      'refused',
      `not allowed to list ${what}${where}: ${serverMessage(error)}`,
      error,
    );
  }
  const code = apiStatus(error);
  return new StatusListError(
    'failed',
    `cannot list ${what}${where}: ${code ? `HTTP ${code}: ` : ''}${serverMessage(error)}`,
    error,
  );
}
