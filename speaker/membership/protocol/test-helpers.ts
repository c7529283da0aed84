import { decodeMessage } from '../codec/codec.ts';
import { type MembershipConfig, membershipConfig } from './config.ts';
import { type MembershipAction, type MembershipState, type Now, step } from './protocol.ts';

/** The cluster key of the protocol's tests. */
export const TEST_KEY = Buffer.alloc(32, 7);
/** Wall clock at monotonic time 0 in the tests. */
export const WALL0 = 1_800_000_000_000;

/** Both clocks at monotonic `monoMs`; the wall clock off by `skewMs`. */
export const at = (monoMs: number, skewMs = 0): Now => ({ monoMs, wallMs: WALL0 + monoMs + skewMs });

/** A speaker's settings with the test key. */
export const testConfig = (nodeName: string, overrides: Partial<MembershipConfig> = {}) =>
  membershipConfig({ nodeName, keys: [TEST_KEY], ...overrides });

/** What a step broadcast, decoded: `Type [subject] [holdMs] ips` (ips comma-separated). */
export function sent(actions: readonly MembershipAction[]): string[] {
  return actions.flatMap((a) => {
    if (a.type !== 'broadcast') return [];
    const decoded = decodeMessage(a.bytes, [TEST_KEY]);
    if (!decoded.ok) throw new Error(`broadcast does not decode: ${decoded.detail}`);
    const { type, holdings, subject, holdMs } = decoded.message;
    return [[type, subject, holdMs, holdings?.join(',')].filter((x) => x !== undefined).join(' ')];
  });
}

/** Delivers every broadcast of `actions` to `state`; returns the new state and what it did. */
export function deliver(state: MembershipState, actions: readonly MembershipAction[], monoMs: number) {
  const out: MembershipAction[] = [];
  let next = state;
  for (const action of actions) {
    if (action.type !== 'broadcast') continue;
    const result = step(next, { type: 'datagram', bytes: action.bytes }, at(monoMs));
    next = result.state;
    out.push(...result.actions);
  }
  return { state: next, actions: out };
}
