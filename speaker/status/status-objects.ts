import { PLURALS, StatusLabels } from '../../shared/api/names.ts';
import { desiredStatuses, statusLabelValue } from '../announce/statuses.ts';
import type { NodePlan } from '../announce/types.ts';
import type { FsmStateName } from '../bgp/fsm/index.ts';

/** One of our objects with everything in `status` (ServiceL2Status, ServiceBGPStatus, BGPSessionState). */
export interface StatusObject {
  readonly kind: string;
  readonly plural: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: Readonly<Record<string, unknown>>;
}

/** What the status writer needs of one BGP session (BGPSessionState). */
export interface SessionReport {
  readonly peer: string;
  readonly peerAddress: string;
  readonly state: FsmStateName;
  /** ms since epoch of the last state change. */
  readonly sinceMs: number;
  readonly prefixesAdvertised: number;
  readonly lastError: string;
  /** The BFD session protecting it, when the BGPPeer names a BFDProfile. */
  readonly bfd?: BfdReport;
}

/** A BFD session as BGPSessionState.status.bfd shows it. */
export interface BfdReport {
  /** RFC 5880 state: AdminDown, Down, Init, Up. */
  readonly state: string;
  /** ms since epoch of the last state change; 0 when it has not changed since it started. */
  readonly sinceMs: number;
  /** RFC 5880 §4.1 diagnostic of that change, e.g. ControlDetectionTimeExpired. */
  readonly diagName: string;
}

/** Whether `actual` already holds every field of `desired` (JSON equality per field). */
export function sameStatus(
  actual: Readonly<Record<string, unknown>> | undefined,
  desired: Readonly<Record<string, unknown>>,
): boolean {
  if (!actual) return false;
  const keys = new Set([...Object.keys(actual), ...Object.keys(desired)]);
  for (const key of keys) if (JSON.stringify(actual[key]) !== JSON.stringify(desired[key])) return false;
  return true;
}

/**
 * The ServiceL2Status / ServiceBGPStatus objects this node's plan implies (names, labels and
 * contents decided by speaker/announce desiredStatuses), in the writer's form.
 */
export function desiredStatusObjects(plan: NodePlan, node: string): StatusObject[] {
  const { l2, bgp } = desiredStatuses(plan, node);
  return [
    ...l2.map((o) => writerForm('ServiceL2Status', PLURALS.ServiceL2Status, o)),
    ...bgp.map((o) => writerForm('ServiceBGPStatus', PLURALS.ServiceBGPStatus, o)),
  ];
}

function writerForm(
  kind: string,
  plural: string,
  o: { metadata: { name: string; labels?: Record<string, string> }; status?: object },
): StatusObject {
  return {
    kind,
    plural,
    name: o.metadata.name,
    labels: o.metadata.labels ?? {},
    status: (o.status ?? {}) as Record<string, unknown>,
  };
}

/** Label selector of every status object of `node`. */
export function nodeSelector(node: string): string {
  return `${StatusLabels.Node}=${statusLabelValue(node)}`;
}

/** The BGPSessionState of one session (speaker contract): `<node>.<peer>`, everything in status. */
export function sessionStateObject(node: string, report: SessionReport): StatusObject {
  return {
    kind: 'BGPSessionState',
    plural: PLURALS.BGPSessionState,
    name: `${node}.${report.peer}`,
    labels: {
      [StatusLabels.Node]: statusLabelValue(node),
      [StatusLabels.Peer]: statusLabelValue(report.peer),
    },
    status: {
      node,
      peer: report.peer,
      peerAddress: report.peerAddress,
      state: report.state,
      since: rfc3339(report.sinceMs),
      prefixesAdvertised: report.prefixesAdvertised,
      lastError: report.lastError,
      ...(report.bfd ? { bfd: bfdStatus(report.bfd) } : {}),
    },
  };
}

/** BGPSessionState.status.bfd: the state, since when (omitted before the first change), why. */
function bfdStatus(bfd: BfdReport): Record<string, string> {
  return {
    state: bfd.state,
    ...(bfd.sinceMs > 0 ? { since: rfc3339(bfd.sinceMs) } : {}),
    diagnostic: bfd.diagName,
  };
}

/** RFC 3339 in whole seconds, as the API server stores times. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
