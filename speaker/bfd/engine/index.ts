export * from './client.ts';
export * from './engine.ts';
export * from './limits.ts';
export * from './messages.ts';
export * from './spec.ts';
export * from './status.ts';
export * from './table.ts';
