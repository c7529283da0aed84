export * from './constants.ts';
export * from './control-packet.ts';
export * from './drop-reasons.ts';
export * from './reception.ts';
