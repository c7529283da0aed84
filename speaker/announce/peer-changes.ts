import { compareText } from '../../shared/config/names.ts';
import type { PeerConfig } from '../../shared/config/types.ts';
import type { BgpRoute, PeerPlan } from './types.ts';

/** What the shell must do to its BGP sessions to go from one plan to the next; each list sorted by peer name. */
export interface PeerChanges {
  /** New sessions. */
  readonly start: readonly PeerPlan[];
  /** Sessions to close (Cease), as they were. */
  readonly stop: readonly PeerPlan[];
  /** Sessions whose configuration changed: close and open again with the new one. */
  readonly restart: readonly PeerPlan[];
  /** Same session, other routes: send the difference (UPDATE / withdraw), no reset. */
  readonly update: readonly PeerPlan[];
}

/**
 * Whether a change of the field needs a new session. Every PeerConfig field is listed, so a
 * field added later fails to compile until someone decides. `nodes` and `nodeSelectors` only
 * decide whether this node has the session at all (start/stop); everything else is sent in
 * OPEN, shapes the TCP connection (address, port, source, MD5 key, multi-hop TTL), or drives
 * the timers, capabilities and BFD of the running session.
 */
const SESSION_FIELDS: Readonly<Record<keyof PeerConfig, boolean>> = {
  name: true,
  myAsn: true,
  peerAsn: true,
  ibgp: true,
  peerAddress: true,
  peerPort: true,
  sourceAddress: true,
  routerId: true,
  holdTimeSec: true,
  keepaliveTimeSec: true,
  connectTimeSec: true,
  ebgpMultiHop: true,
  nodes: false,
  nodeSelectors: false,
  password: true,
  bfdProfile: true,
  enableGracefulRestart: true,
  dualStackAddressFamily: true,
};

/** Whether two configurations of one peer need the session to be restarted. */
export function sessionChanged(a: PeerConfig, b: PeerConfig): boolean {
  for (const field of Object.keys(SESSION_FIELDS) as (keyof PeerConfig)[]) {
    if (SESSION_FIELDS[field] && !sameValue(a[field], b[field])) return true;
  }
  return false;
}

/**
 * The session changes from `previous` (undefined: nothing runs yet) to `next`, by peer name:
 * a changed peer restarts only that session, a peer whose routes alone changed is updated in
 * place, and an unchanged peer is in no list.
 */
export function peerChanges(
  previous: readonly PeerPlan[] | undefined,
  next: readonly PeerPlan[],
): PeerChanges {
  const before = new Map((previous ?? []).map((p) => [p.peer.name, p])); // peer name -> plan
  const after = new Map(next.map((p) => [p.peer.name, p])); // peer name -> plan
  const start: PeerPlan[] = [];
  const stop: PeerPlan[] = [];
  const restart: PeerPlan[] = [];
  const update: PeerPlan[] = [];
  for (const [name, plan] of after) {
    const old = before.get(name);
    if (!old) start.push(plan);
    else if (sessionChanged(old.peer, plan.peer)) restart.push(plan);
    else if (!sameRoutes(old.routes, plan.routes)) update.push(plan);
  }
  for (const [name, plan] of before) if (!after.has(name)) stop.push(plan);
  const byName = (a: PeerPlan, b: PeerPlan) => compareText(a.peer.name, b.peer.name);
  return {
    start: start.sort(byName),
    stop: stop.sort(byName),
    restart: restart.sort(byName),
    update: update.sort(byName),
  };
}

function sameRoutes(a: readonly BgpRoute[], b: readonly BgpRoute[]): boolean {
  return a.length === b.length && a.every((route, i) => sameValue(route, b[i]));
}

/** Structural equality of plain data (objects, arrays, bigint, primitives). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
