import { requestAttributes } from './request-attributes.ts';

/** The verbs of the real server's audit log. */
export type RequestVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection';

/**
 * One finished request, as a real API server's audit log records it at stage ResponseComplete
 * (every request, whoever sent it; `onAudit` reports only RBAC decisions). Every request but a
 * watch changes the store (if at all) in the same turn of the event loop as its completion, so
 * `completedMs` orders writes as the store applied them.
 */
export interface RequestRecord {
  readonly verb: RequestVerb;
  /** Path and query, as sent. */
  readonly requestURI: string;
  /** The client's User-Agent header ('' when none). */
  readonly userAgent: string;
  /** The HTTP status answered. */
  readonly code: number;
  /** When the request arrived and when its answer was complete, on the server's monotonic clock (ms). */
  readonly receivedMs: number;
  readonly completedMs: number;
}

const VERBS = new Set<string>([
  'get',
  'list',
  'watch',
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
]);

/** The audit verb of a request, as RBAC derives it (`get` for what is not a resource verb). */
export function requestVerb(method: string, url: URL): RequestVerb {
  let verb: string;
  try {
    verb = requestAttributes(method, url.pathname, url.searchParams).verb;
  } catch {
    verb = 'get'; // a malformed escape: not a resource path
  }
  return VERBS.has(verb) ? (verb as RequestVerb) : 'get';
}

/** Whether the verb may change the store. */
export function isWriteVerb(verb: RequestVerb): boolean {
  return verb !== 'get' && verb !== 'list' && verb !== 'watch';
}
