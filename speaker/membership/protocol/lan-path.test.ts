import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeMessage } from '../codec/codec.ts';
import {
  aliveMembers,
  initialState,
  LAN_MAX_MESSAGE_BYTES,
  type LanPath,
  type MembershipAction,
  type MembershipEvent,
  type MembershipState,
  peerHoldings,
  step,
} from './protocol.ts';
import { at, TEST_KEY, testConfig, WALL0 } from './test-helpers.ts';

// Two speakers on one LAN whose membership port is cut (a firewall rule), one direction or
// both, with the LAN path between them: time and delivery are in the test's hands.

const key = TEST_KEY;
const MAC = { a: '02:00:00:00:00:0a', b: '02:00:00:00:00:0b' } as const;
type Name = keyof typeof MAC;

interface Links {
  /** UDP from → to works. */
  udp: (from: Name, to: Name) => boolean;
  /** Frames cross the LAN. */
  lan: boolean;
}

class Pair {
  readonly states: Record<Name, MembershipState>;
  readonly log: { atMs: number; node: Name; action: MembershipAction }[] = [];
  nowMs = 0;
  links: Links = { udp: () => true, lan: true };

  constructor() {
    this.states = {
      a: initialState(testConfig('a'), 1n, ['a', 'b'], at(0)),
      b: initialState(testConfig('b'), 2n, ['a', 'b'], at(0)),
    };
  }

  /** Steps `node`, then delivers what it sent (synchronously: the LAN is fast). */
  feed(node: Name, event: MembershipEvent): readonly MembershipAction[] {
    const result = step(this.states[node], event, at(this.nowMs));
    this.states[node] = result.state;
    const other: Name = node === 'a' ? 'b' : 'a';
    for (const action of result.actions) this.log.push({ atMs: this.nowMs, node, action });
    // Frames first: the LAN path often beats the membership port, so the port's datagram of a
    // tick arrives after the LAN's, with a lower sequence number, and must still count.
    const lanFirst = [...result.actions].sort(
      (x, y) => Number(x.type === 'broadcast') - Number(y.type === 'broadcast'),
    );
    for (const action of lanFirst) {
      if (action.type === 'broadcast' && this.links.udp(node, other)) {
        this.feed(other, { type: 'datagram', bytes: action.bytes });
      }
      const toOther =
        (action.type === 'lan-send' && action.path.mac === MAC[other]) || action.type === 'lan-broadcast';
      if (toOther && this.links.lan) {
        // The receiver's path back: its interface and the sender's MAC.
        this.feed(other, {
          type: 'datagram',
          bytes: action.bytes,
          lan: { interface: 'eth0', mac: MAC[node] },
        });
      }
    }
    return result.actions;
  }

  /** Ticks both every 25 ms until `untilMs`. */
  run(untilMs: number): void {
    while (this.nowMs < untilMs) {
      this.nowMs += 25;
      this.feed('a', { type: 'tick' });
      this.feed('b', { type: 'tick' });
    }
  }

  actions(type: MembershipAction['type'], fromMs = 0, node?: Name) {
    return this.log.filter((e) => e.action.type === type && e.atMs >= fromMs && (!node || e.node === node));
  }
}

const conflict = (mac: string): MembershipEvent => ({ type: 'lan-conflict', interface: 'eth0', mac });

/** The message type in a frame the step sent on the LAN path. */
function lanType(action: MembershipAction): string {
  if (action.type !== 'lan-send' && action.type !== 'lan-broadcast')
    throw new Error(`${action.type} is no frame`);
  const decoded = decodeMessage(action.bytes, [key], false);
  if (!decoded.ok) throw new Error(`frame does not decode: ${decoded.detail}`);
  return decoded.message.type;
}

/** What a frame the step sent on the LAN path says `a` or `b` holds, or undefined when it is no Holdings. */
function lanHoldings(action: MembershipAction): readonly string[] | undefined {
  if (action.type !== 'lan-send') return undefined;
  const decoded = decodeMessage(action.bytes, [key], false);
  return decoded.ok && decoded.message.type === 'Holdings' ? decoded.message.holdings : undefined;
}

test('port cut both ways: the first to take the other for dead broadcasts a Claim, and both are alive again at once', () => {
  const pair = new Pair();
  pair.run(300);
  assert.deepEqual(
    [aliveMembers(pair.states.a), aliveMembers(pair.states.b)],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
  );
  assert.equal(
    pair.actions('lan-send').length + pair.actions('lan-broadcast').length,
    0,
    'nothing on the LAN path while the port works',
  );

  pair.links.udp = () => false;
  pair.run(800);
  // a's tick notices first; its Claim reaches b before b's own tick takes a for dead.
  assert.deepEqual(
    pair.actions('peer-failed', 300).map((e) => e.node),
    ['a'],
  );
  assert.equal(pair.actions('lan-broadcast', 300).length, 1, 'one Claim, on failure');
  assert.deepEqual(
    [aliveMembers(pair.states.a), aliveMembers(pair.states.b)],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
  );
  const failedAt = pair.actions('peer-failed', 300)[0]!.atMs;
  // b answers a's Claim with its next heartbeat, on the LAN path: a hears it within 50 ms.
  const back = pair
    .actions('alive-changed', failedAt, 'a')
    .filter((e) => (e.action as unknown as { alive: string[] }).alive.length === 2);
  assert.equal(back.length, 1);
  assert.ok(back[0]!.atMs - failedAt <= 50, `a counts b alive again ${back[0]!.atMs - failedAt} ms later`);
  const lanOnly = pair.actions('lan-only', 300).map((e) => [e.node, (e.action as { name: string }).name]);
  assert.deepEqual(lanOnly.sort(), [
    ['a', 'b'],
    ['b', 'a'],
  ]);
  // Three seconds with the port still cut: nobody is taken for dead again.
  pair.run(3900);
  assert.equal(pair.actions('peer-failed', 800).length, 0);
  // Each beat there: our Holdings (empty here), then the Claim.
  const frameTypes = pair.actions('lan-send', 2900).map((e) => lanType(e.action));
  for (const type of ['Holdings', 'Claim']) {
    const perNodePerSecond = frameTypes.filter((t) => t === type).length / 2;
    assert.ok(
      perNodePerSecond >= 19 && perNodePerSecond <= 21,
      `${perNodePerSecond} ${type} frames a second each`,
    );
  }
  assert.equal(frameTypes.length, frameTypes.filter((t) => t === 'Holdings' || t === 'Claim').length);

  // The port works again: the LAN path stops within the dead time and the pins go.
  pair.links.udp = () => true;
  pair.run(5000);
  assert.deepEqual(pair.actions('lan-send', 4600), []);
  assert.deepEqual(
    pair
      .actions('lan-interfaces', 300)
      .map((e) => (e.action as { interfaces: readonly string[] }).interfaces),
    [['eth0'], ['eth0'], [], []],
  );
  assert.equal(pair.states.a.lanOnly.length + pair.states.b.lanOnly.length, 0);
  assert.equal(pair.actions('peer-failed', 800).length, 0);

  // A real cut (nothing crosses) is still a failure, in the same dead time.
  pair.links.lan = false;
  pair.links.udp = () => false;
  pair.run(5400);
  assert.deepEqual(
    pair
      .actions('peer-failed', 5000)
      .map((e) => [e.node, (e.action as { silentForMs: number }).silentForMs <= 325]),
    [
      ['a', true],
      ['b', true],
    ],
  );
});

/** A pair alive to each other, then cut apart on the port and the LAN until 800 ms: each alone. */
function cutApart(): Pair {
  const pair = new Pair();
  pair.run(300);
  pair.links.udp = () => false;
  pair.links.lan = false;
  pair.run(800);
  assert.deepEqual([aliveMembers(pair.states.a), aliveMembers(pair.states.b)], [['a'], ['b']]);
  return pair;
}

test('a conflict starts the LAN path when the Claims sent on failure were lost', () => {
  const pair = cutApart();
  pair.links.lan = true;
  // a's responder sees b announce one of a's IPs (b's takeover burst): a claims, to b's MAC.
  const sent = pair.feed('a', conflict(MAC.b));
  assert.deepEqual(
    sent.filter((x) => x.type === 'lan-send').map((x) => (x as { path: LanPath }).path),
    [{ interface: 'eth0', mac: MAC.b }],
  );
  assert.deepEqual(aliveMembers(pair.states.b), ['a', 'b'], 'b hears a on the LAN path');
  pair.run(900);
  assert.deepEqual(aliveMembers(pair.states.a), ['a', 'b'], 'and a hears b: b claims back');
  pair.run(3000);
  assert.equal(pair.actions('peer-failed', 800).length, 0);
});

test('port cut one way: the side that hears nothing claims, the other answers on the LAN while asked', () => {
  const pair = new Pair();
  pair.run(300);
  // a → b is dropped, b → a works: b takes a for dead (a still hears b), broadcasts a Claim,
  // and a, asked, answers on the LAN path.
  pair.links.udp = (from) => from === 'b';
  pair.run(3000);
  assert.deepEqual(
    pair.actions('peer-failed', 300).map((e) => [e.node, (e.action as { name: string }).name]),
    [['b', 'a']],
  );
  assert.deepEqual(
    [aliveMembers(pair.states.a), aliveMembers(pair.states.b)],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
  );
  const failedAt = pair.actions('peer-failed', 300)[0]!.atMs;
  assert.equal(pair.actions('peer-failed', failedAt + 1).length, 0);
  // b, who hears a only there, asks (Claim); a, who hears b on the port, only answers.
  const lanOnly = pair
    .actions('lan-only', 300)
    .map((e) => `${e.node}:${(e.action as { name: string }).name}`);
  assert.deepEqual(lanOnly, ['b:a']);
  // a answers every beat, b's Holdings between its Claims notwithstanding (they ask nothing).
  const types = (node: Name) => pair.actions('lan-send', 2000, node).map((e) => lanType(e.action));
  assert.ok(types('a').filter((t) => t === 'Heartbeat').length >= 19, types('a').join());
  assert.ok(types('b').filter((t) => t === 'Claim').length >= 19, types('b').join());
});

test('conflicts: one Claim per MAC and heartbeat interval, at most 64 MACs remembered, none while leaving', () => {
  const pair = new Pair();
  pair.run(300);
  pair.links.lan = false;
  const claims = () => pair.actions('lan-send', 300, 'a').length;
  for (let i = 0; i < 100; i++) pair.feed('a', conflict(MAC.b));
  assert.equal(claims(), 1);
  pair.nowMs += 50;
  pair.feed('a', conflict(MAC.b));
  assert.equal(claims(), 2);
  // A host cycling through MACs gets a Claim each, but the memory stays bounded.
  for (let i = 0; i < 500; i++)
    pair.feed(
      'a',
      conflict(
        `02:f0:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      ),
    );
  assert.equal(pair.states.a.conflictClaims.size, 64);
  pair.feed('a', { type: 'leave' });
  const before = claims();
  pair.nowMs += 100;
  pair.feed('a', conflict(MAC.b));
  assert.equal(claims(), before);
});

test('a leave goes on the LAN path too, so a peer cut off the port drops us at once', () => {
  const pair = new Pair();
  pair.run(300);
  pair.links.udp = () => false;
  pair.run(800);
  pair.feed('a', conflict(MAC.b));
  pair.run(1000);
  pair.feed('a', { type: 'leave' });
  assert.deepEqual(
    pair.actions('peer-left', 1000).map((e) => [e.node, (e.action as { name: string }).name]),
    [['b', 'a']],
  );
});

test('a Claim on the membership port is malformed: it belongs on the LAN path', () => {
  const pair = new Pair();
  pair.run(300);
  const claim = encodeMessage(
    { type: 'Claim', sender: 'a', incarnation: 1n, sequence: 1000n, sentAtMs: WALL0 + 300 },
    key,
  );
  const actions = pair.feed('b', { type: 'datagram', bytes: claim });
  assert.deepEqual(
    actions.map((x) => (x.type === 'rejected' ? x.reason : x.type)),
    ['malformed'],
  );
});

test('a LAN host cannot fake the LAN path: forged, replayed, unlisted and self-named frames are rejected, nothing answers them', () => {
  // The port cut and the LAN cut too: b takes a for dead, and only the attacker's frames reach it.
  const pair = cutApart();
  const attacker = { interface: 'eth0', mac: '02:00:00:00:00:66' };
  const claim = (sender: string, sequence: bigint, signingKey: Uint8Array = key) =>
    encodeMessage(
      { type: 'Claim', sender, incarnation: 1n, sequence, sentAtMs: WALL0 + pair.nowMs },
      signingKey,
    );
  // A Claim a really sent (captured on the LAN before), then replayed by the attacker.
  const captured = [...pair.log].reverse().find((e) => e.node === 'a' && e.action.type === 'lan-broadcast');
  const replayed = (captured?.action as { bytes: Uint8Array } | undefined)?.bytes;
  assert.ok(replayed, 'a broadcast a Claim when b fell silent');
  // It reaches b once, from a, and a falls silent again (the LAN is cut): b takes a for dead.
  pair.feed('b', { type: 'datagram', bytes: replayed, lan: { interface: 'eth0', mac: MAC.a } });
  pair.run(1200);
  assert.deepEqual(aliveMembers(pair.states.b), ['b']);
  const frames: [string, Uint8Array][] = [
    ['bad-mac', claim('a', 5000n, Buffer.alloc(32, 9))],
    ['replay', replayed],
    ['unknown-sender', claim('mallory', 5000n)],
    ['self', claim('b', 5000n)],
    ['malformed', Uint8Array.from([1, 2, 3, 4])],
  ];
  const before = pair.log.length;
  for (const [reason, bytes] of frames) {
    const actions = pair.feed('b', { type: 'datagram', bytes, lan: attacker });
    assert.deepEqual(
      actions.filter((x) => x.type === 'rejected').map((x) => (x as { reason: string }).reason),
      [reason],
      reason,
    );
  }
  pair.run(1800);
  const toAttacker = pair.log
    .slice(before)
    .filter((e) => e.action.type === 'lan-send' && e.action.path.mac === attacker.mac);
  assert.deepEqual(toAttacker, [], 'nothing is sent to the attacker for its frames');
  assert.deepEqual(
    aliveMembers(pair.states.b),
    ['b'],
    "a stays dead to b: the attacker's frames count for nothing",
  );
  assert.deepEqual(pair.states.b.lanOnly, []);
});

test('a blocked port keeps what each side last heard the other hold: both go on deciding from the same holdings', () => {
  const pair = new Pair();
  pair.run(300);
  pair.feed('b', { type: 'set-holdings', holdings: ['198.51.100.1'] });
  pair.run(600);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.1']);

  pair.links.udp = () => false;
  pair.run(6000);
  assert.deepEqual(pair.states.a.lanOnly, ['b'], 'heard only on the LAN path');
  assert.deepEqual(aliveMembers(pair.states.a), ['a', 'b']);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.1'], 'not forgotten for the silence');

  // On the port again, a peer that says nothing of its holdings for a dead time holds nothing
  // (its one "now empty" Holdings may have been lost).
  pair.links.udp = () => true;
  pair.run(7000);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.1'], 'b still says it holds it');
});

test('a blocked port: what a side holds now reaches the other on the LAN path, at once and with every beat', () => {
  const pair = new Pair();
  pair.run(300);
  pair.feed('b', { type: 'set-holdings', holdings: ['198.51.100.1'] });
  pair.run(600);
  pair.links.udp = () => false;
  pair.run(1500);
  assert.deepEqual(pair.states.a.lanOnly, ['b']);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.1']);

  // A change during the block (b took an IP over, or gave one up) goes out there at once.
  const sent = pair.feed('b', { type: 'set-holdings', holdings: ['198.51.100.1', '198.51.100.2'] });
  assert.deepEqual(
    sent.map(lanHoldings).filter((h) => h !== undefined),
    [['198.51.100.1', '198.51.100.2']],
  );
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.1', '198.51.100.2']);
  pair.feed('b', { type: 'set-holdings', holdings: [] });
  assert.equal(peerHoldings(pair.states.a).get('b'), undefined, 'a withdrawal too');

  // A frame lost on the LAN: the next beat repeats what b holds, empty or not.
  pair.links.lan = false;
  pair.feed('b', { type: 'set-holdings', holdings: ['198.51.100.3'] });
  pair.links.lan = true;
  assert.equal(peerHoldings(pair.states.a).get('b'), undefined);
  pair.run(1575);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), ['198.51.100.3']);
  pair.links.lan = false;
  pair.feed('b', { type: 'set-holdings', holdings: [] });
  pair.links.lan = true;
  pair.run(1650);
  assert.equal(peerHoldings(pair.states.a).get('b'), undefined);
  assert.deepEqual(aliveMembers(pair.states.a), ['a', 'b']);
  assert.equal(pair.actions('peer-failed', 1500).length, 0);

  // The port works again: no Holdings on the LAN path after the dead time.
  pair.links.udp = () => true;
  pair.run(2500);
  assert.deepEqual(pair.actions('lan-send', 2100), []);
});

test('Holdings too large for one frame stay off the LAN path: the peer keeps what it heard on the port', () => {
  const many = Array.from({ length: 100 }, (_, i) => `2001:db8:100::${(i + 1).toString(16)}`);
  const pair = new Pair();
  pair.run(300);
  pair.feed('b', { type: 'set-holdings', holdings: many });
  pair.run(600);
  pair.links.udp = () => false;
  pair.feed('b', { type: 'set-holdings', holdings: many.slice(1) });
  pair.run(1500);
  assert.deepEqual(pair.states.a.lanOnly, ['b']);
  assert.deepEqual(aliveMembers(pair.states.a), ['a', 'b']);
  assert.equal(pair.actions('lan-send', 600, 'b').filter((e) => lanType(e.action) === 'Holdings').length, 0);
  for (const e of pair.actions('lan-send', 600))
    assert.ok(e.action.type === 'lan-send' && e.action.bytes.length <= LAN_MAX_MESSAGE_BYTES);
  assert.deepEqual(peerHoldings(pair.states.a).get('b'), many, 'what it heard before the block');
});
