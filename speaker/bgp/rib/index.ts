/** BGP advertisement (RIB-out): desired routes per peer to the minimal UPDATE stream. */
export * from './encoded-prefix-map.ts';
export * from './graceful-shutdown.ts';
export * from './next-hops.ts';
export * from './output-queue.ts';
export * from './pending-output.ts';
export * from './prefix-list.ts';
export * from './rib-out.ts';
export * from './session-families.ts';
