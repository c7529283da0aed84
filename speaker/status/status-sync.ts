import { PLURALS, StatusLabels } from '../../shared/api/names.ts';
import { statusLabelValue } from '../announce/statuses.ts';
import { type SessionReport, type StatusObject, sessionStateObject } from './status-objects.ts';

/**
 * What the status writer (speaker/shell/status-writer.ts) decides before it writes: which of this
 * node's objects to delete and which to put. Objects have deterministic names, so a restarted
 * speaker converges from what it finds without remembering anything.
 */

/** The kinds of objects a speaker writes for its node: BGPSessionState only while its CRD is installed. */
export function statusPlurals(sessionStates: boolean): string[] {
  return [
    PLURALS.ServiceL2Status,
    PLURALS.ServiceBGPStatus,
    ...(sessionStates ? [PLURALS.BGPSessionState] : []),
  ];
}

/** An object of ours as a cache or a LIST holds it. */
export interface WrittenObject {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> };
}

/** Deletes (names, in `written` order) then puts (in `desired` order). */
export interface Writes<T> {
  readonly delete: readonly string[];
  readonly put: readonly T[];
}

/**
 * The writes that make this node's objects of `plural` the `desired` ones: what it has written
 * and no longer wants (also what an earlier run of the node left behind) is deleted; every
 * desired object is put (the writer skips a put that changes nothing).
 */
export function statusWrites(
  desired: readonly StatusObject[],
  plural: string,
  written: readonly WrittenObject[],
): Writes<StatusObject> {
  const wanted = new Map<string, StatusObject>(); // name -> object
  for (const o of desired) if (o.plural === plural) wanted.set(o.name, o);
  return {
    delete: written.map((o) => o.metadata?.name ?? '').filter((name) => !wanted.has(name)),
    put: [...wanted.values()],
  };
}

/** A BGPSessionState to put, with the status last written (undefined: not written by this run). */
export interface SessionStatePut {
  readonly object: StatusObject;
  readonly previous: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The BGPSessionState writes of this node's sessions: `written` (name -> status last written)
 * against the sessions running now. A session gone is deleted; a session's object is put only
 * when its status differs from what was written.
 */
export function sessionStateWrites(
  node: string,
  reports: readonly SessionReport[],
  written: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
): Writes<SessionStatePut> {
  const objects = new Map(reports.map((r) => [`${node}.${r.peer}`, sessionStateObject(node, r)]));
  const put: SessionStatePut[] = [];
  for (const [name, object] of objects) {
    const previous = written.get(name);
    if (previous && JSON.stringify(previous) === JSON.stringify(object.status)) continue;
    put.push({ object, previous });
  }
  return { delete: [...written.keys()].filter((name) => !objects.has(name)), put };
}

/**
 * Whether a session's prefix count moved since its state was written: counts change without a
 * state change, so the writer looks at them on a timer of its own.
 */
export function prefixCountsMoved(
  node: string,
  reports: readonly SessionReport[],
  written: ReadonlyMap<string, Readonly<Record<string, unknown>>>,
): boolean {
  return reports.some((r) => {
    const last = written.get(`${node}.${r.peer}`);
    return last !== undefined && last.prefixesAdvertised !== r.prefixesAdvertised;
  });
}

/** Nodes with a speaker Pod, this one included (it runs, whatever the cache says). */
export function speakerNodes(
  pods: readonly { readonly spec?: { readonly nodeName?: string } }[],
  self: string,
): Set<string> {
  const nodes = new Set(pods.map((p) => p.spec?.nodeName ?? ''));
  nodes.add(self);
  return nodes;
}

/**
 * Names of the objects owned by a node without a speaker Pod (the node label carries the node
 * name, hashed when too long for a label value). Objects without the label are nobody's.
 */
export function orphans(objects: readonly WrittenObject[], nodes: ReadonlySet<string>): string[] {
  const alive = new Set([...nodes].map(statusLabelValue));
  return objects
    .filter((o) => {
      const owner = o.metadata?.labels?.[StatusLabels.Node];
      return owner !== undefined && !alive.has(owner);
    })
    .map((o) => o.metadata?.name ?? '');
}

/** Nodes whose speaker Pod was there before and is gone now, in `before` order. */
export function goneNodes(before: ReadonlySet<string>, now: ReadonlySet<string>): string[] {
  return [...before].filter((node) => !now.has(node));
}
