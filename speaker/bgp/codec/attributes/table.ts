import { AGGREGATOR, AS4_AGGREGATOR, ATOMIC_AGGREGATE } from './aggregation.ts';
import { AS_PATH, AS4_PATH } from './as-path.ts';
import { COMMUNITIES, LARGE_COMMUNITY } from './communities.ts';
import type { AttributeDescriptor } from './descriptor.ts';
import { MP_REACH_NLRI, MP_UNREACH_NLRI } from './mp-nlri.ts';
import { NEXT_HOP } from './next-hop.ts';
import { ORIGIN } from './origin.ts';
import { LOCAL_PREF, MULTI_EXIT_DISC } from './path-selection.ts';

/**
 * Every path attribute the codec interprets, in type-code order: the order they are written
 * in (RFC 4271 §5 recommends ascending). Any other attribute is kept raw.
 */
export const ATTRIBUTES: readonly AttributeDescriptor[] = [
  ORIGIN,
  AS_PATH,
  NEXT_HOP,
  MULTI_EXIT_DISC,
  LOCAL_PREF,
  ATOMIC_AGGREGATE,
  AGGREGATOR,
  COMMUNITIES,
  MP_REACH_NLRI,
  MP_UNREACH_NLRI,
  AS4_PATH,
  AS4_AGGREGATOR,
  LARGE_COMMUNITY,
];

/** type code → descriptor, for decoding. */
const BY_TYPE_CODE: readonly (AttributeDescriptor | undefined)[] = (() => {
  const table: (AttributeDescriptor | undefined)[] = new Array(256).fill(undefined);
  for (const d of ATTRIBUTES) table[d.typeCode] = d;
  return table;
})();

/** The descriptor of a type code, or undefined when the codec does not interpret it. */
export function attributeByTypeCode(typeCode: number): AttributeDescriptor | undefined {
  return BY_TYPE_CODE[typeCode];
}

/** Name of a path attribute type code for logs and metric labels: the RFC name, else the number. */
export function attributeName(typeCode: number): string {
  return BY_TYPE_CODE[typeCode]?.name ?? String(typeCode);
}
