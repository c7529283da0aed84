export * from './fsm.ts';
export * from './timers.ts';
export * from './types.ts';
