import { type MembershipConfig, membershipConfig } from './config.ts';
import type { Now } from './protocol.ts';

/** The cluster key of the protocol's tests. */
export const TEST_KEY = Buffer.alloc(32, 7);
/** Wall clock at monotonic time 0 in the tests. */
export const WALL0 = 1_800_000_000_000;

/** Both clocks at monotonic `monoMs`; the wall clock off by `skewMs`. */
export const at = (monoMs: number, skewMs = 0): Now => ({ monoMs, wallMs: WALL0 + monoMs + skewMs });

/** A speaker's settings with the test key. */
export const testConfig = (nodeName: string, overrides: Partial<MembershipConfig> = {}) =>
  membershipConfig({ nodeName, keys: [TEST_KEY], ...overrides });
