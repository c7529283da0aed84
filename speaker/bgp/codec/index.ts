/** BGP-4 wire codec: pure encode/decode of every message (RFC 4271 and extensions). */
export * from './address.ts';
export * from './as-path.ts';
export type { AttributeDescriptor, EncodedNlri } from './attributes/descriptor.ts';
export { ATTRIBUTES, attributeByTypeCode, attributeName } from './attributes/table.ts';
export * from './communities.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './framer.ts';
export * from './message.ts';
export * from './nlri.ts';
export * from './open.ts';
export * from './path-attributes.ts';
export * from './prefix-nlri.ts';
export * from './types.ts';
export * from './update.ts';
