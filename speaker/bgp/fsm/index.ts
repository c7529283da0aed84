/** BGP finite state machine (RFC 4271 §8) as a pure step function. */
export { backoffMs } from './backoff.ts';
export * from './config.ts';
export * from './fsm.ts';
export * from './negotiation.ts';
export * from './peer-liveness.ts';
export * from './send-progress.ts';
export * from './types.ts';
