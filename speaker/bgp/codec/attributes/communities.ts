import { AttrType } from '../constants.ts';
import { type AttributeDescriptor, decodeList, OPTIONAL_TRANSITIVE } from './descriptor.ts';

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
  decode: (value, errors) => decodeList(value, 4, errors, (item) => item.u32()),
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
  decode: (value, errors) =>
    decodeList(value, 12, errors, (item) => ({
      globalAdmin: item.u32(),
      localData1: item.u32(),
      localData2: item.u32(),
    })),
};
