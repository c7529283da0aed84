import type { KubeObject } from './types.ts';

/**
 * events.k8s.io/v1 Events are the core/v1 Events seen through other field names (the real
 * server stores one kind and converts), so an Event written through either API is listed,
 * watched and described through both. Stored form: core/v1.
 * events.k8s.io/v1 field → core/v1 field
 */
const RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(obj: KubeObject, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { ...obj };
  for (const [from, to] of pairs) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out;
}

/** events.k8s.io/v1 → core/v1 (storage). */
export function eventToCore(obj: KubeObject): KubeObject {
  return rename(obj, RENAMES);
}

/** core/v1 (storage) → events.k8s.io/v1. */
export function eventFromCore(obj: KubeObject): KubeObject {
  return rename(
    obj,
    RENAMES.map(([a, b]) => [b, a]),
  );
}
