import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MembershipMessage } from '../codec/codec.ts';
import { MembershipDefaults } from './config.ts';
import { expireHoldings, holdingsHeard } from './holdings.ts';
import { newPeer } from './peer-list.ts';
import { initialState, type MembershipAction, type PeerHoldings, peerHoldings, step } from './protocol.ts';
import type { HeardMessage, PeerRecord } from './state.ts';
import { at, deliver, sent, testConfig } from './test-helpers.ts';

// Holdings (docs/adr/0012-l2-sticky-owner.md): each speaker tells its peers the L2 IPs it
// answers for, so that a returning node leaves them where they are.

const { heartbeatIntervalMs, deadAfterMs } = MembershipDefaults;
const V4 = '198.51.100.1';
const V6 = '2001:db8:100::5';

const changes = (actions: readonly MembershipAction[]): PeerHoldings[] =>
  actions.flatMap((a) => (a.type === 'holdings-changed' ? [a.holdings] : []));
const plain = (holdings: PeerHoldings) => Object.fromEntries(holdings);

/** `holder` (incarnation `incarnation`) says it holds `ips`, and `a` has heard it. */
function heardHolding(holder: string, incarnation: bigint, ips: readonly string[]) {
  const peers = ['a', holder];
  const start = step(initialState(testConfig(holder), incarnation, peers, at(0)), { type: 'tick' }, at(0));
  const set = step(start.state, { type: 'set-holdings', holdings: ips }, at(1));
  const a = deliver(initialState(testConfig('a'), 2000n, peers, at(0)), set.actions, 2).state;
  return { holder: set.state, a };
}

test('holdings go out at once when they change, then before every heartbeat while not empty', () => {
  let b = initialState(testConfig('b'), 1000n, ['a', 'b'], at(0));
  b = step(b, { type: 'tick' }, at(0)).state;
  const set = step(b, { type: 'set-holdings', holdings: [V4, V6] }, at(1));
  assert.deepEqual(sent(set.actions), [`Holdings ${V4},${V6}`]);
  assert.deepEqual(step(set.state, { type: 'set-holdings', holdings: [V4, V6] }, at(2)).actions, []);
  const tick = step(set.state, { type: 'tick' }, at(heartbeatIntervalMs));
  assert.deepEqual(sent(tick.actions), [`Holdings ${V4},${V6}`, 'Heartbeat']);
  // Emptied: said once, then plain heartbeats.
  const emptied = step(tick.state, { type: 'set-holdings', holdings: [] }, at(heartbeatIntervalMs + 1));
  assert.deepEqual(sent(emptied.actions), ['Holdings ']);
  assert.deepEqual(sent(step(emptied.state, { type: 'tick' }, at(2 * heartbeatIntervalMs)).actions), [
    'Heartbeat',
  ]);
  // A leaving speaker says nothing more about them.
  const leaving = step(tick.state, { type: 'leave' }, at(heartbeatIntervalMs + 2)).state;
  assert.deepEqual(
    step(leaving, { type: 'set-holdings', holdings: [V6] }, at(heartbeatIntervalMs + 3)).actions,
    [],
  );
});

test('a starting speaker learns what a peer holds before it settles, in the same step', () => {
  let b = initialState(testConfig('b'), 1000n, ['a', 'b'], at(0));
  b = step(b, { type: 'tick' }, at(0)).state;
  b = step(b, { type: 'set-holdings', holdings: [V4] }, at(1)).state;
  const a = initialState(testConfig('a'), 2000n, ['a', 'b'], at(10));
  const heartbeat = step(b, { type: 'tick' }, at(heartbeatIntervalMs));
  const heard = deliver(a, heartbeat.actions, heartbeatIntervalMs + 1);
  const types = heard.actions.map((x) => x.type).filter((t) => t !== 'peer-joined');
  assert.deepEqual(types, ['holdings-changed', 'settled']);
  assert.deepEqual(plain(changes(heard.actions)[0]!), { b: [V4] });
  assert.deepEqual(plain(peerHoldings(heard.state)), { b: [V4] });
});

test('a peer that stops saying what it holds (its empty Holdings lost) loses its claim after deadAfterMs; a leaver at once', () => {
  let { holder: b, a } = heardHolding('b', 1000n, [V6]);
  assert.deepEqual(plain(peerHoldings(a)), { b: [V6] });
  // b withdraws; the Holdings saying so is lost; its heartbeats keep coming.
  b = step(b, { type: 'set-holdings', holdings: [] }, at(3)).state;
  const seen: PeerHoldings[] = [];
  for (let t = heartbeatIntervalMs; t <= 2 * deadAfterMs; t += heartbeatIntervalMs / 2) {
    const tickB = step(b, { type: 'tick' }, at(t));
    b = tickB.state;
    const heard = deliver(a, tickB.actions, t);
    const ticked = step(heard.state, { type: 'tick' }, at(t + 1));
    a = ticked.state;
    seen.push(...changes([...heard.actions, ...ticked.actions]));
    if (t <= deadAfterMs) assert.deepEqual(plain(peerHoldings(a)), { b: [V6] }, `at ${t} ms`);
  }
  assert.deepEqual(seen.map(plain), [{}]);
  assert.deepEqual(plain(peerHoldings(a)), {});
  // Held again, then b leaves: its claim goes with it.
  const again = step(b, { type: 'set-holdings', holdings: [V4] }, at(700));
  a = deliver(a, again.actions, 701).state;
  assert.deepEqual(plain(peerHoldings(a)), { b: [V4] });
  const left = deliver(a, step(again.state, { type: 'leave' }, at(702)).actions, 703);
  assert.deepEqual(changes(left.actions).map(plain), [{}]);
});

test('the same holdings again, or a plain heartbeat, report no change', () => {
  let b = initialState(testConfig('b'), 1000n, ['a', 'b'], at(0));
  let a = initialState(testConfig('a'), 2000n, ['a', 'b'], at(0));
  const first = step(step(b, { type: 'tick' }, at(0)).state, { type: 'set-holdings', holdings: [V4] }, at(1));
  b = first.state;
  const heard = deliver(a, first.actions, 2);
  a = heard.state;
  assert.equal(changes(heard.actions).length, 1);
  const tick = step(b, { type: 'tick' }, at(heartbeatIntervalMs));
  const again = deliver(a, tick.actions, heartbeatIntervalMs + 1);
  assert.deepEqual(changes(again.actions), []);
  assert.equal(peerHoldings(again.state).get('b'), peerHoldings(a).get('b'), 'the same array, kept');
});

test('what a peer held before it left or restarted is forgotten: a new incarnation claims nothing until it says so', () => {
  let b = initialState(testConfig('b'), 1000n, ['a', 'b'], at(0));
  let a = initialState(testConfig('a'), 2000n, ['a', 'b'], at(0));
  const set = step(step(b, { type: 'tick' }, at(0)).state, { type: 'set-holdings', holdings: [V4] }, at(1));
  b = set.state;
  a = deliver(a, set.actions, 2).state;
  assert.deepEqual(plain(peerHoldings(a)), { b: [V4] });
  // b restarts at once (a new incarnation) and its first heartbeat comes before any Holdings.
  const reborn = initialState(testConfig('b'), 3000n, ['a', 'b'], at(10));
  const first = step(reborn, { type: 'tick' }, at(10));
  const heard = deliver(a, first.actions, 11);
  assert.deepEqual(changes(heard.actions).map(plain), [{}]);
  assert.deepEqual(plain(peerHoldings(heard.state)), {});
});

test('a peer back on the port after it failed claims nothing it does not say again: a withdrawal lost while it was cut off does not take the IP back', () => {
  // The owner's cable is cut: its peers take it for dead and one of them takes its IP; the owner,
  // alone and without the API server, withdraws, and its "now empty" Holdings is lost on the cut
  // cable. Back on the LAN, its heartbeats must not revive what it held before the cut: counted,
  // it is a second holder the ranking prefers, and the node that took over hands the IP back.
  let { holder: b, a } = heardHolding('b', 1000n, [V6]);
  assert.deepEqual(plain(peerHoldings(a)), { b: [V6] });
  // Cut: nothing from b reaches a, and what a sends is lost too.
  const failed: MembershipAction[] = [];
  for (let t = 25; t <= deadAfterMs + 50; t += 25) {
    const ticked = step(a, { type: 'tick' }, at(t));
    a = ticked.state;
    failed.push(...ticked.actions);
  }
  assert.ok(failed.some((x) => x.type === 'peer-failed' && x.name === 'b'));
  b = step(b, { type: 'set-holdings', holdings: [] }, at(deadAfterMs)).state;
  // Cable back: b's next beat is a plain heartbeat (it holds nothing, so no Holdings goes first).
  const beat = step(b, { type: 'tick' }, at(4000));
  assert.deepEqual(sent(beat.actions), ['Heartbeat']);
  const back = deliver(a, beat.actions, 4001);
  assert.ok(back.actions.some((x) => x.type === 'peer-joined'));
  assert.deepEqual(plain(peerHoldings(back.state)), {}, 'what b held before the cut');
  assert.deepEqual(changes(back.actions), [], 'b claimed nothing while dead and claims nothing now');

  // Control: a peer that still holds its IP when it comes back (a flap it did not notice) says so
  // before its heartbeat, and counts as a holder again in the same beat.
  const control = heardHolding('c', 3000n, [V4]);
  let a2 = control.a;
  for (let t = 25; t <= deadAfterMs + 50; t += 25) a2 = step(a2, { type: 'tick' }, at(t)).state;
  assert.deepEqual(plain(peerHoldings(a2)), {}, 'a dead peer holds nothing');
  const stillHolding = deliver(a2, step(control.holder, { type: 'tick' }, at(4000)).actions, 4001);
  assert.deepEqual(plain(peerHoldings(stillHolding.state)), { c: [V4] });
  assert.deepEqual(changes(stillHolding.actions).map(plain), [{ c: [V4] }]);
});

// The holdings part on its own: when what a peer said stops counting, and what a message says.

const peerRecord = (extra: Partial<PeerRecord> = {}): PeerRecord => ({
  ...newPeer(at(0)),
  status: 'alive',
  incarnation: 5n,
  ...extra,
});

test('expireHoldings: a peer talking on the port but silent about its holdings for deadAfterMs holds nothing', () => {
  const now = at(20_000);
  const said = peerRecord({
    holdings: [V4],
    udpHeardMonoMs: now.monoMs,
    holdingsHeardMonoMs: now.monoMs - deadAfterMs,
  });
  assert.equal(expireHoldings(said, now, deadAfterMs), said, 'exactly the dead time: still counts');
  const older = { ...said, holdingsHeardMonoMs: now.monoMs - deadAfterMs - 1 };
  assert.deepEqual(expireHoldings(older, now, deadAfterMs).holdings, []);
  // Silent on the port too (cut off; perhaps heard on the LAN path): what it said stands.
  const cut = { ...older, udpHeardMonoMs: older.holdingsHeardMonoMs };
  assert.equal(expireHoldings(cut, now, deadAfterMs), cut);
});

test('expireHoldings: back from a restart, what it held stands until resumingUntil, then is gone', () => {
  const resuming = peerRecord({ holdings: [V4], resumingUntilMonoMs: 1000, udpHeardMonoMs: 999 });
  assert.equal(expireHoldings(resuming, at(999), deadAfterMs), resuming);
  const over = expireHoldings(resuming, at(1000), deadAfterMs);
  assert.deepEqual([over.holdings, over.resumingUntilMonoMs], [[], undefined]);
});

test('holdingsHeard: what each message says of its sender holdings', () => {
  const now = at(5000);
  const msg = (
    type: MembershipMessage['type'],
    extra: Partial<MembershipMessage> = {},
  ): MembershipMessage => ({
    type,
    sender: 'b',
    incarnation: 5n,
    sequence: 2n,
    sentAtMs: now.wallMs,
    ...extra,
  });
  const heard = (message: MembershipMessage, before: PeerRecord, extra: Partial<HeardMessage> = {}) =>
    holdingsHeard(
      before,
      { message, before, onLan: false, reborn: false, returned: false, ...extra },
      now,
      700,
    );
  const holder = peerRecord({ holdings: [V4, V6] });
  // The same list again keeps the same array: holdingsMoved compares arrays by identity.
  assert.equal(heard(msg('Holdings', { holdings: [V4, V6] }), holder).holdings, holder.holdings);
  assert.deepEqual(heard(msg('Holdings', { holdings: [V6] }), holder).holdings, [V6]);
  assert.equal(heard(msg('Heartbeat'), holder).holdings, holder.holdings, 'a heartbeat says nothing');
  assert.deepEqual(heard(msg('Leave'), holder).holdings, [], 'gone');
  assert.deepEqual(heard(msg('Heartbeat', { incarnation: 6n }), holder).holdings, [], 'restarted');
  const dead = { ...holder, status: 'dead' as const };
  assert.deepEqual(heard(msg('Heartbeat'), dead).holdings, [], 'back on the port after it failed');
  assert.equal(
    heard(msg('Heartbeat'), dead, { onLan: true }).holdings,
    holder.holdings,
    'heard only on the LAN',
  );
  const back = heard(msg('Heartbeat', { incarnation: 6n }), holder, { reborn: true, returned: true });
  assert.deepEqual([back.holdings, back.resumingUntilMonoMs], [holder.holdings, now.monoMs + 700]);
});
