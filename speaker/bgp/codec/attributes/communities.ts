import { AttrType } from '../constants.ts';
import type { LargeCommunity } from '../types.ts';
import { type AttributeDescriptor, OPTIONAL_TRANSITIVE } from './descriptor.ts';

/** COMMUNITIES (RFC 1997): 32-bit values, at least one. */
export const COMMUNITIES: AttributeDescriptor<'communities'> = {
  typeCode: AttrType.Communities,
  name: 'COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  action: 'treat-as-withdraw', // RFC 7606 §7.8
  key: 'communities',
  encode: (communities, out) => {
    for (const community of communities) out.u32(community);
  },
  decode: (value, errors) => {
    if (value.remaining === 0 || value.remaining % 4 !== 0) {
      return errors.length(value.remaining, 'a non-zero multiple of 4');
    }
    const communities: number[] = new Array(value.remaining / 4);
    for (let i = 0; i < communities.length; i++) communities[i] = value.u32();
    return communities;
  },
};

/** LARGE_COMMUNITY (RFC 8092): 12-octet values, at least one. */
export const LARGE_COMMUNITY: AttributeDescriptor<'largeCommunities'> = {
  typeCode: AttrType.LargeCommunity,
  name: 'LARGE_COMMUNITY',
  flags: OPTIONAL_TRANSITIVE,
  action: 'treat-as-withdraw', // RFC 8092 §6
  key: 'largeCommunities',
  encode: (communities, out) => {
    for (const c of communities) out.u32(c.globalAdmin).u32(c.localData1).u32(c.localData2);
  },
  decode: (value, errors) => {
    if (value.remaining === 0 || value.remaining % 12 !== 0) {
      return errors.length(value.remaining, 'a non-zero multiple of 12');
    }
    const communities: LargeCommunity[] = [];
    while (value.remaining > 0) {
      communities.push({ globalAdmin: value.u32(), localData1: value.u32(), localData2: value.u32() });
    }
    return communities;
  },
};
