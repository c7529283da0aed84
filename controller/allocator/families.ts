import type { IpFamily, IpValue } from '../../shared/net/ip.ts';
import type { ServiceFacts } from './types.ts';

/**
 * Dual stack (spec.ipFamilies, spec.ipFamilyPolicy): which families a Service gets, tried in
 * which order, and its IPs in the order of its ipFamilies.
 */

/** Families to try, in order: each entry is one complete attempt. */
export function familyPlans(facts: ServiceFacts): IpFamily[][] {
  const [primary, secondary] = facts.families;
  if (primary === undefined) return [['IPv4']];
  switch (facts.familyPolicy) {
    case 'SingleStack':
      return [[primary]];
    case 'RequireDualStack':
      return secondary === undefined ? [[]] : [[primary, secondary]];
    case 'PreferDualStack':
      return secondary === undefined ? [[primary]] : [[primary, secondary], [primary], [secondary]];
  }
}

/** The IPs in the order of the Service's ipFamilies (primary first). */
export function orderByFamilies(ips: readonly IpValue[], families: readonly IpFamily[]): IpValue[] {
  const rank = (ip: IpValue): number => {
    const index = families.indexOf(ip.family);
    return index < 0 ? families.length : index;
  };
  return [...ips].sort((a, b) => rank(a) - rank(b));
}
