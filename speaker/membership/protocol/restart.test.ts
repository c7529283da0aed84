import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeMessage } from '../codec/codec.ts';
import { MembershipDefaults } from './config.ts';
import {
  aliveMembers,
  initialState,
  type MembershipAction,
  type MembershipState,
  peerHoldings,
  restartingPeers,
  step,
} from './protocol.ts';
import { at, deliver, sent, TEST_KEY, testConfig, WALL0 } from './test-helpers.ts';

// Restart in place (docs/adr/0013-l2-restart-in-place.md): a speaker stopping to come back asks
// its peers to keep its L2 IPs for it; they do until it is back or the hold runs out, and tell
// the new speaker what it held.

const { heartbeatIntervalMs, deadAfterMs, resumeGraceMs, maxRestartHoldMs } = MembershipDefaults;
const V4 = '198.51.100.1';
const V6 = '2001:db8:100::5';
const HOLD_MS = 5000;

const plain = (state: MembershipState) => Object.fromEntries(peerHoldings(state));
const types = (actions: readonly MembershipAction[]) => actions.map((a) => a.type);
const failed = (actions: readonly MembershipAction[]) =>
  actions.flatMap((a) => (a.type === 'peer-failed' ? [a.name] : []));

/** a and b settled, b holding `holdings`; b then stops to restart at `t`. */
function restarted(holdings: readonly string[] = [V4, V6], holdMs = HOLD_MS, t = 100) {
  let a = initialState(testConfig('a'), 1000n, ['a', 'b'], at(0));
  let b = initialState(testConfig('b'), 2000n, ['a', 'b'], at(0));
  const aTick = step(a, { type: 'tick' }, at(0));
  b = deliver(step(b, { type: 'tick' }, at(0)).state, aTick.actions, 1).state;
  const bSet = step(b, { type: 'set-holdings', holdings }, at(2));
  const bTick = step(bSet.state, { type: 'tick' }, at(heartbeatIntervalMs));
  a = deliver(aTick.state, [...bSet.actions, ...bTick.actions], 3).state;
  assert.equal(a.settled, true);
  assert.deepEqual(plain(a), { b: holdings });
  const stop = step(bTick.state, { type: 'restart', holdMs }, at(t));
  const heard = deliver(a, stop.actions, t + 1);
  return { a: heard.state, heard: heard.actions, stopping: stop, bAfter: stop.state };
}

test('the restarting speaker sends Restarting with its IPs and the hold a few times, then nothing', () => {
  const { stopping, bAfter } = restarted();
  const message = `Restarting ${HOLD_MS} ${V4},${V6}`;
  assert.deepEqual(sent(stopping.actions), Array(MembershipDefaults.leaveRepeats).fill(message));
  assert.deepEqual(sent(step(bAfter, { type: 'tick' }, at(1000)).actions), [], 'no heartbeat after it');
  assert.deepEqual(step(bAfter, { type: 'set-holdings', holdings: [] }, at(1001)).actions, []);
  assert.deepEqual(step(bAfter, { type: 'leave' }, at(1002)).actions, [], 'stopped once');
});

test('a restarting peer is not alive, but its IPs are kept for it, without failure, until the hold runs out', () => {
  const { a: heardA, heard } = restarted();
  let a = heardA;
  assert.deepEqual(types(heard), ['peer-restarting', 'holdings-changed', 'alive-changed']);
  const change = heard[1] as Extract<MembershipAction, { type: 'holdings-changed' }>;
  assert.deepEqual(Object.fromEntries(change.holdings), { b: [V4, V6] });
  assert.deepEqual(change.restarting, ['b']);
  assert.deepEqual(aliveMembers(a), ['a']);
  // Silent far past the dead time: kept, not failed.
  for (let t = 125; t < 101 + HOLD_MS; t += 25) {
    const tick = step(a, { type: 'tick' }, at(t));
    assert.deepEqual(failed(tick.actions), [], `at ${t} ms`);
    a = tick.state;
  }
  assert.deepEqual(plain(a), { b: [V4, V6] });
  assert.deepEqual(restartingPeers(a), ['b']);
  // The hold is over: b failed, as a silent peer does; nothing is kept any more.
  const over = step(a, { type: 'tick' }, at(101 + HOLD_MS));
  assert.deepEqual(failed(over.actions), ['b']);
  const gone = over.actions.find((x) => x.type === 'holdings-changed');
  assert.deepEqual(gone && { ...gone, holdings: Object.fromEntries(gone.holdings) }, {
    type: 'holdings-changed',
    holdings: {},
    restarting: [],
  });
  assert.deepEqual(plain(over.state), {});
});

test('a hold longer than maxRestartHoldMs is cut to it (a peer with the key cannot keep IPs dark for long)', () => {
  const { a, heard } = restarted([V4], 600_000);
  const asked = heard.find((x) => x.type === 'peer-restarting');
  assert.deepEqual(asked, { type: 'peer-restarting', name: 'b', holdMs: maxRestartHoldMs });
  assert.deepEqual(failed(step(a, { type: 'tick' }, at(101 + maxRestartHoldMs - 1)).actions), []);
  assert.deepEqual(failed(step(a, { type: 'tick' }, at(101 + maxRestartHoldMs)).actions), ['b']);
});

test('back with a new incarnation: it keeps its IPs, the peers tell it which (Resume) until it says what it holds', () => {
  const { a: waiting } = restarted();
  const t0 = 2000;
  let b = initialState(testConfig('b'), 3000n, ['a', 'b'], at(t0));
  const first = step(b, { type: 'tick' }, at(t0));
  b = first.state;
  const back = deliver(waiting, first.actions, t0 + 1);
  let a = back.state;
  assert.ok(types(back.actions).includes('peer-joined'));
  assert.deepEqual(restartingPeers(a), []);
  assert.deepEqual(plain(a), { b: [V4, V6] }, 'kept across the new incarnation');
  assert.deepEqual(sent(back.actions), [`Resume b ${V4},${V6}`], 'at once');
  // The new speaker learns what it held, before it plans.
  const told = deliver(b, back.actions, t0 + 2);
  b = told.state;
  assert.deepEqual(
    told.actions.filter((x) => x.type === 'resumed'),
    [{ type: 'resumed', holdings: [V4, V6] }],
  );
  // Repeated before each of a's heartbeats while b says nothing about its holdings.
  const aTick = step(a, { type: 'tick' }, at(t0 + heartbeatIntervalMs));
  a = aTick.state;
  assert.deepEqual(sent(aTick.actions), [`Resume b ${V4},${V6}`, 'Heartbeat']);
  // b's first plan took them again: Holdings ends the resume, no more Resume.
  const planned = step(b, { type: 'set-holdings', holdings: [V4, V6] }, at(t0 + 60));
  a = deliver(a, planned.actions, t0 + 61).state;
  assert.deepEqual(plain(a), { b: [V4, V6] });
  assert.deepEqual(sent(step(a, { type: 'tick' }, at(t0 + 2 * heartbeatIntervalMs)).actions), ['Heartbeat']);
});

test('back but holding less: its first Holdings is what counts; back and silent about it: kept only resumeGraceMs', () => {
  const { a: waiting } = restarted();
  const t0 = 2000;
  const reborn = initialState(testConfig('b'), 3000n, ['a', 'b'], at(t0));
  const first = step(reborn, { type: 'tick' }, at(t0));
  const back = deliver(waiting, first.actions, t0 + 1).state;
  const less = step(first.state, { type: 'set-holdings', holdings: [V6] }, at(t0 + 5));
  assert.deepEqual(plain(deliver(back, less.actions, t0 + 6).state), { b: [V6] });
  // Heartbeats only, no Holdings: the kept IPs end after the grace, not the dead time.
  let a = back;
  let b = first.state;
  for (let t = t0 + 25; t <= t0 + resumeGraceMs + 25; t += 25) {
    const bTick = step(b, { type: 'tick' }, at(t));
    b = bTick.state;
    a = step(deliver(a, bTick.actions, t).state, { type: 'tick' }, at(t)).state;
    if (t < t0 + 1 + resumeGraceMs) assert.deepEqual(plain(a), { b: [V4, V6] }, `at ${t} ms`);
  }
  assert.ok(resumeGraceMs > deadAfterMs);
  assert.deepEqual(plain(a), {});
  assert.deepEqual(aliveMembers(a), ['a', 'b']);
});

test('the restarted side forgets what it was told resumeGraceMs after the last Resume', () => {
  const { a: waiting } = restarted([V4]);
  const t0 = 2000;
  const first = step(initialState(testConfig('b'), 3000n, ['a', 'b'], at(t0)), { type: 'tick' }, at(t0));
  const back = deliver(waiting, first.actions, t0 + 1);
  const b = deliver(first.state, back.actions, t0 + 2).state;
  assert.deepEqual(b.resumed, [V4]);
  assert.deepEqual(step(b, { type: 'tick' }, at(t0 + 1 + resumeGraceMs)).state.resumed, [V4]);
  const over = step(b, { type: 'tick' }, at(t0 + 2 + resumeGraceMs));
  assert.deepEqual(over.state.resumed, []);
  assert.deepEqual(
    over.actions.filter((x) => x.type === 'resumed'),
    [{ type: 'resumed', holdings: [] }],
  );
});

test("a restarting peer's Pod gone from the peer list (a rolling update) keeps the hold; listed again, it still restarts", () => {
  const { a: waiting } = restarted([V4]);
  let a = step(waiting, { type: 'set-peers', names: ['a'] }, at(200)).state;
  assert.deepEqual(plain(a), { b: [V4] });
  a = step(a, { type: 'tick' }, at(300)).state;
  a = step(a, { type: 'set-peers', names: ['a', 'b'] }, at(400)).state;
  assert.deepEqual(restartingPeers(a), ['b']);
  assert.deepEqual(plain(a), { b: [V4] });
  // Unlisted and never back: the hold still ends.
  const unlisted = step(a, { type: 'set-peers', names: ['a'] }, at(500)).state;
  const over = step(unlisted, { type: 'tick' }, at(101 + HOLD_MS));
  assert.deepEqual(failed(over.actions), ['b']);
  assert.deepEqual(plain(over.state), {});
});

test('hostile: a Restarting without the key, a replayed one, or a Resume about another node changes nothing', () => {
  const base = restarted();
  // b's Restarting signed with another key: dropped as bad-mac, b's IPs are not kept for long.
  let a = initialState(testConfig('a'), 1000n, ['a', 'b'], at(0));
  const forged = encodeMessage(
    {
      type: 'Restarting',
      sender: 'b',
      incarnation: 2000n,
      sequence: 99n,
      sentAtMs: WALL0 + 10,
      holdMs: 60_000,
      holdings: [V4],
    },
    Buffer.alloc(32, 9),
  );
  const dropped = step(a, { type: 'datagram', bytes: forged }, at(10));
  assert.deepEqual(
    dropped.actions.map((x) => (x.type === 'rejected' ? x.reason : x.type)),
    ['bad-mac'],
  );
  a = dropped.state;
  assert.deepEqual(restartingPeers(a), []);
  // The genuine Restarting replayed after b came back: a replay, b stays alive.
  const t0 = 2000;
  const first = step(initialState(testConfig('b'), 3000n, ['a', 'b'], at(t0)), { type: 'tick' }, at(t0));
  const back = deliver(base.a, first.actions, t0 + 1).state;
  const replayed = deliver(back, base.stopping.actions, t0 + 2);
  assert.deepEqual(
    replayed.actions.map((x) => (x.type === 'rejected' ? x.reason : x.type)),
    Array(MembershipDefaults.leaveRepeats).fill('replay'),
  );
  assert.deepEqual(restartingPeers(replayed.state), []);
  // A Resume naming another node: a (the receiver) resumes nothing.
  const aboutB = deliver(
    initialState(testConfig('a'), 5000n, ['a', 'b', 'c'], at(t0)),
    [
      {
        type: 'broadcast',
        bytes: encodeMessage(
          {
            type: 'Resume',
            sender: 'c',
            incarnation: 4000n,
            sequence: 1n,
            sentAtMs: WALL0 + t0,
            subject: 'b',
            holdings: [V4],
          },
          TEST_KEY,
        ),
      },
    ],
    t0 + 3,
  );
  assert.deepEqual(aboutB.state.resumed, []);
  assert.ok(!aboutB.actions.some((x) => x.type === 'resumed'));
});

test('a restarting peer that never returns fails when the hold runs out, and a new Service does not wait for it', () => {
  const { a: waiting } = restarted([V4], 1000);
  let a = waiting;
  const seen: string[] = [];
  for (let t = 125; t <= 1200; t += 25) {
    const tick = step(a, { type: 'tick' }, at(t));
    a = tick.state;
    for (const name of failed(tick.actions)) seen.push(`${name} at ${t}`);
  }
  assert.deepEqual(seen, ['b at 1125']);
  assert.deepEqual(restartingPeers(a), []);
  assert.deepEqual(aliveMembers(a), ['a']);
});

test("the node's kernel refusing our heartbeats keeps the hold; once it falls silent for restartEvidenceMs the node is gone", () => {
  const { restartEvidenceMs } = MembershipDefaults;
  const { a: waiting } = restarted([V4], 10_000);
  let a = waiting;
  // Refusals about once a second (the kernel's ICMP rate limit), for 3 s: held.
  for (let t = 125; t <= 3100; t += 25) {
    if (t % 1000 === 0) a = step(a, { type: 'node-alive', name: 'b' }, at(t)).state;
    const tick = step(a, { type: 'tick' }, at(t));
    assert.deepEqual(failed(tick.actions), [], `at ${t} ms`);
    a = tick.state;
  }
  // The node died after its last refusal at 3000 ms: the hold ends restartEvidenceMs later, not at 10 s.
  const seen: number[] = [];
  for (let t = 3125; t <= 6000 && seen.length === 0; t += 25) {
    const tick = step(a, { type: 'tick' }, at(t));
    a = tick.state;
    if (failed(tick.actions).length > 0) seen.push(t);
  }
  assert.deepEqual(seen, [3000 + restartEvidenceMs + 25]);
  assert.deepEqual(plain(a), {});
  // A refusal about a peer that does not restart changes nothing.
  assert.equal(step(a, { type: 'node-alive', name: 'b' }, at(6100)).state.peers, a.peers);
});

test('no refusal ever seen (ICMP filtered on the way): the whole hold stands', () => {
  const { a: waiting } = restarted([V4], 8000);
  let a = waiting;
  for (let t = 125; t < 8101; t += 25) {
    const tick = step(a, { type: 'tick' }, at(t));
    assert.deepEqual(failed(tick.actions), [], `at ${t} ms`);
    a = tick.state;
  }
  assert.deepEqual(failed(step(a, { type: 'tick' }, at(8101)).actions), ['b']);
});
