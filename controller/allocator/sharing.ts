import type { Holder, Refusal, ServiceFacts, ServicePort } from './types.ts';
import { RefusalReason } from './types.ts';

/**
 * IP sharing (annotation metalbeacon.io/allow-shared-ip): Services may share an address when
 * they carry the same sharing key, the same backends (externalTrafficPolicy Local) and no common
 * (protocol, port).
 */

function portText(port: ServicePort): string {
  return `${port.protocol}/${port.port}`;
}

/** Why the Service may not join the IP's current holders, if it may not. */
export function sharingRefusal(holder: Holder, facts: ServiceFacts): Refusal | undefined {
  const others = [...holder.services.keys()].filter((key) => key !== facts.key);
  if (others.length === 0) return undefined;
  const who = others.join(', ');
  if (holder.sharingKey === undefined || facts.sharingKey === undefined) {
    return {
      pool: holder.pool,
      reason: RefusalReason.Taken,
      message: `is already used by ${who} and ${facts.sharingKey === undefined ? 'this Service has' : 'they have'} no metalbeacon.io/allow-shared-ip key`,
    };
  }
  if (holder.sharingKey !== facts.sharingKey) {
    return {
      pool: holder.pool,
      reason: RefusalReason.SharingKeyMismatch,
      message: `is used by ${who} with sharing key "${holder.sharingKey}", not "${facts.sharingKey}"`,
    };
  }
  if (holder.backendKey !== facts.backendKey) {
    return {
      pool: holder.pool,
      reason: RefusalReason.BackendKeyMismatch,
      message: `is used by ${who}, whose externalTrafficPolicy/selector differ (Local Services share only with identical selectors)`,
    };
  }
  for (const key of others) {
    for (const theirs of holder.services.get(key) ?? []) {
      if (facts.ports.some((mine) => mine.protocol === theirs.protocol && mine.port === theirs.port)) {
        return {
          pool: holder.pool,
          reason: RefusalReason.PortConflict,
          message: `is used by ${key}, which already has port ${portText(theirs)}`,
        };
      }
    }
  }
  return undefined;
}
