import { formatIpValue, type IpFamily, type IpValue } from '../../shared/net/ip.ts';
import { isBuggyIp, poolRefusal } from './pool-rules.ts';
import { sharingRefusal } from './sharing.ts';
import {
  type AssignOptions,
  type Holder,
  type PoolState,
  type Refusal,
  RefusalReason,
  type ServiceFacts,
} from './types.ts';

/**
 * The rules for IPs given to a Service (a restore from its status, spec.loadBalancerIP, the
 * metalbeacon.io/loadBalancerIPs annotation): one per family and of its families, all from one
 * pool it may use (and the one it names), not .0/.255 where the pool avoids them, and shareable
 * with their holders. The first rule broken is the answer, its message naming the address.
 */

/** Where the allocator finds an address: its pool and its current holders. */
export interface AddressLookup {
  pool(ip: IpValue): PoolState | undefined;
  holder(ip: IpValue): Holder | undefined;
}

/** An address as people write it (only error paths format: it is costly). */
function formatIpOf(ip: IpValue): string {
  return formatIpValue(ip.family, ip.value);
}

/** Why the Service may not have exactly these IPs, if it may not. */
export function requestRefusal(
  facts: ServiceFacts,
  ips: readonly IpValue[],
  options: AssignOptions,
  at: AddressLookup,
): Refusal | undefined {
  if (ips.length === 0) {
    return { pool: undefined, reason: RefusalReason.FamilyMissing, message: 'no IP given' };
  }
  const seen = new Set<IpFamily>();
  for (const ip of ips) {
    if (seen.has(ip.family)) {
      return {
        pool: undefined,
        reason: RefusalReason.DuplicateFamily,
        message: `more than one ${ip.family} address requested (${ips.map(formatIpOf).join(', ')}); at most one per family`,
      };
    }
    seen.add(ip.family);
    const allowed = facts.familyPolicy === 'SingleStack' ? facts.families.slice(0, 1) : facts.families;
    if (!allowed.includes(ip.family)) {
      return {
        pool: undefined,
        reason: RefusalReason.WrongFamily,
        message: `${formatIpOf(ip)} is ${ip.family} but the Service's ipFamilies are [${allowed.join(', ')}] (${facts.familyPolicy})`,
      };
    }
  }
  if (facts.familyPolicy === 'RequireDualStack' && ips.length < 2 && !options.allowPartial) {
    return {
      pool: undefined,
      reason: RefusalReason.FamilyMissing,
      message: `ipFamilyPolicy RequireDualStack needs one IPv4 and one IPv6 address, got ${ips.map(formatIpOf).join(', ')}`,
    };
  }
  let pool: PoolState | undefined;
  for (const ip of ips) {
    // Formatting an address is costly: only error paths do it.
    const text = (): string => formatIpOf(ip);
    const state = at.pool(ip);
    if (!state) {
      return {
        pool: undefined,
        reason: RefusalReason.NotInAnyPool,
        message: `${text()} is in no IPAddressPool`,
      };
    }
    if (pool && pool !== state) {
      return {
        pool: state.pool.name,
        reason: RefusalReason.DifferentPools,
        message: `${formatIpOf(ips[0]!)} is in pool ${pool.pool.name} but ${text()} is in pool ${state.pool.name}; a Service's IPs come from one pool`,
      };
    }
    pool = state;
    if (facts.pool !== undefined && facts.pool !== state.pool.name) {
      return {
        pool: facts.pool,
        reason: RefusalReason.NotInRequestedPool,
        message: `${text()} is in pool ${state.pool.name}, not in pool ${facts.pool} named by metalbeacon.io/address-pool`,
      };
    }
    const refused = poolRefusal(state.pool, facts);
    if (refused) return { ...refused, message: `${text()}: ${refused.message}` };
    if (state.pool.avoidBuggyIPs && isBuggyIp(ip.family, ip.value)) {
      return {
        pool: state.pool.name,
        reason: RefusalReason.BuggyIp,
        message: `${text()} ends in .0 or .255 and the pool sets avoidBuggyIPs`,
      };
    }
    const holder = at.holder(ip);
    if (holder) {
      const conflict = sharingRefusal(holder, facts);
      if (conflict) return { ...conflict, message: `${text()} ${conflict.message}` };
    }
  }
  return undefined;
}
