/** BGP advertisement (RIB-out): desired routes per peer to the minimal UPDATE stream. */
export * from './rib-out.ts';
