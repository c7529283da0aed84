import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeMessage } from '../codec/codec.ts';
import { initialState, type MembershipAction, type MembershipEvent, step } from './protocol.ts';
import { at, TEST_KEY, testConfig } from './test-helpers.ts';

// Every part that sends signs through ./send.ts, which counts each message: the peers' replay
// windows accept a sequence number once, so two messages with one number would lose the second.
// This holds whatever the parts do, on the port and on the LAN path alike.

type Op =
  | { readonly op: 'tick'; readonly advanceMs: number }
  | { readonly op: 'holdings'; readonly ips: readonly string[] }
  | { readonly op: 'conflict'; readonly mac: number }
  | { readonly op: 'hear'; readonly onLan: boolean }
  | { readonly op: 'peers'; readonly names: readonly string[] };

const IPS = ['198.51.100.1', '198.51.100.2', '2001:db8:100::5'];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('tick' as const), advanceMs: fc.integer({ min: 1, max: 2500 }) }),
  fc.record({ op: fc.constant('holdings' as const), ips: fc.subarray(IPS) }),
  fc.record({ op: fc.constant('conflict' as const), mac: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('hear' as const), onLan: fc.boolean() }),
  fc.record({ op: fc.constant('peers' as const), names: fc.subarray(['a', 'b', 'c']) }),
);

/** Every message `actions` send, decoded (broadcasts, frames to one path, frames to all). */
function sequences(actions: readonly MembershipAction[]): { incarnation: bigint; sequence: bigint }[] {
  return actions.flatMap((action) => {
    if (action.type !== 'broadcast' && action.type !== 'lan-send' && action.type !== 'lan-broadcast')
      return [];
    const decoded = decodeMessage(action.bytes, [TEST_KEY], false);
    if (!decoded.ok) throw new Error(`${action.type} does not decode: ${decoded.detail}`);
    return [decoded.message];
  });
}

test('property: every message sent takes its own, increasing sequence number, and the state counts past it', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), fc.constantFrom('leave', 'restart'), (ops, end) => {
      let nowMs = 0;
      let a = initialState(testConfig('a'), 7n, ['a', 'b', 'c'], at(0));
      let b = initialState(testConfig('b'), 9n, ['a', 'b', 'c'], at(0));
      const fromB: Uint8Array[] = [];
      const sent: MembershipAction[] = [];
      const feed = (event: MembershipEvent) => {
        const result = step(a, event, at(nowMs));
        a = result.state;
        sent.push(...result.actions);
      };
      const tickB = () => {
        const result = step(b, { type: 'tick' }, at(nowMs));
        b = result.state;
        for (const action of result.actions) if (action.type === 'broadcast') fromB.push(action.bytes);
      };
      for (const op of ops) {
        if (op.op === 'tick') {
          nowMs += op.advanceMs;
          tickB();
          feed({ type: 'tick' });
        } else if (op.op === 'holdings') feed({ type: 'set-holdings', holdings: op.ips });
        else if (op.op === 'conflict')
          feed({ type: 'lan-conflict', interface: 'eth0', mac: `02:00:00:00:00:0${op.mac}` });
        else if (op.op === 'peers') feed({ type: 'set-peers', names: op.names });
        else {
          const bytes = fromB.shift();
          if (bytes === undefined) continue;
          feed({
            type: 'datagram',
            bytes,
            ...(op.onLan ? { lan: { interface: 'eth0', mac: '02:00:00:00:00:0b' } } : {}),
          });
        }
      }
      feed(end === 'leave' ? { type: 'leave' } : { type: 'restart', holdMs: 1000 });
      const messages = sequences(sent);
      assert.ok(messages.length > 0, 'at least the goodbye was sent');
      for (const message of messages) assert.equal(message.incarnation, 7n);
      messages.forEach((message, i) => {
        if (i > 0)
          assert.ok(message.sequence > messages[i - 1]!.sequence, `message ${i} reuses or goes back`);
      });
      assert.ok(a.nextSequence > messages.at(-1)!.sequence);
    }),
    { seed: 15, numRuns: 200 },
  );
});
