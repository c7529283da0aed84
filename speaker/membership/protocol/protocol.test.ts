import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeMessage } from '../codec/codec.ts';
import { type MembershipConfig, MembershipDefaults } from './config.ts';
import {
  aliveMembers,
  initialState,
  type MembershipAction,
  type MembershipEvent,
  type MembershipState,
  step,
} from './protocol.ts';
import { at, TEST_KEY, testConfig, WALL0 } from './test-helpers.ts';

const key = TEST_KEY;
const config = testConfig;
const { heartbeatIntervalMs, deadAfterMs, tickMs } = MembershipDefaults;

/** Deterministic PRNG (mulberry32) so a "random" network is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Logged {
  readonly atMs: number;
  readonly action: MembershipAction;
}
interface SimNode {
  state: MembershipState;
  up: boolean;
  stalls: Array<[number, number]>; // [from, to): the process does not run
  log: Logged[];
}
interface Pending {
  atMs: number;
  order: number;
  node: string;
  event: MembershipEvent;
}
interface NetworkModel {
  delayMs?: () => number;
  dropRate?: number;
  tickJitterMs?: () => number;
}

/**
 * A discrete-event simulation of speakers on one LAN: timers, datagram delays and losses,
 * process stalls (a stalled process handles its late timer first, then queued datagrams,
 * as Node's event loop does), kills and restarts.
 */
class Cluster {
  readonly nodes = new Map<string, SimNode>();
  private queue: Pending[] = [];
  private order = 0;
  nowMs = 0;
  readonly rng: () => number;
  readonly net: NetworkModel;
  readonly names: readonly string[];
  readonly overrides: Partial<MembershipConfig>;

  constructor(
    names: readonly string[],
    net: NetworkModel = {},
    seed = 1,
    overrides: Partial<MembershipConfig> = {},
  ) {
    this.names = names;
    this.overrides = overrides;
    this.net = net;
    this.rng = prng(seed);
    for (const name of names) this.start(name, 1000n);
  }

  start(name: string, incarnation: bigint): void {
    const node = this.nodes.get(name);
    const state = initialState(config(name, this.overrides), incarnation, this.names, at(this.nowMs));
    this.nodes.set(name, { state, up: true, stalls: node?.stalls ?? [], log: node?.log ?? [] });
    this.push(this.nowMs, name, { type: 'tick' });
  }

  kill(name: string): void {
    this.nodes.get(name)!.up = false;
  }

  deliver(name: string, event: MembershipEvent): readonly MembershipAction[] {
    return this.apply(name, event);
  }

  run(untilMs: number): void {
    for (;;) {
      this.queue.sort((x, y) => x.atMs - y.atMs || x.order - y.order);
      const next = this.queue[0];
      if (!next || next.atMs > untilMs) break;
      this.queue.shift();
      const node = this.nodes.get(next.node)!;
      if (!node.up) continue;
      const stall = node.stalls.find(([from, to]) => next.atMs >= from && next.atMs < to);
      if (stall) {
        // Late timers run before the datagrams queued behind them.
        const order = next.event.type === 'tick' ? -1e9 + this.order++ : this.order++;
        this.queue.push({ ...next, atMs: stall[1], order });
        continue;
      }
      this.nowMs = next.atMs;
      this.apply(next.node, next.event);
      if (next.event.type === 'tick')
        this.push(this.nowMs + tickMs + (this.net.tickJitterMs?.() ?? 0), next.node, next.event);
    }
    this.nowMs = untilMs;
  }

  actions(name: string, type: MembershipAction['type']): Logged[] {
    return this.nodes.get(name)!.log.filter((entry) => entry.action.type === type);
  }

  private apply(name: string, event: MembershipEvent): readonly MembershipAction[] {
    const node = this.nodes.get(name)!;
    const result = step(node.state, event, at(this.nowMs));
    node.state = result.state;
    for (const action of result.actions) {
      node.log.push({ atMs: this.nowMs, action });
      if (action.type !== 'broadcast') continue;
      for (const peer of this.names) {
        if (peer === name || this.rng() < (this.net.dropRate ?? 0)) continue;
        this.push(this.nowMs + (this.net.delayMs?.() ?? 1), peer, { type: 'datagram', bytes: action.bytes });
      }
    }
    return result.actions;
  }

  private push(atMs: number, node: string, event: MembershipEvent): void {
    this.queue.push({ atMs, order: this.order++, node, event });
  }
}

const failedPeers = (cluster: Cluster, name: string) =>
  cluster.actions(name, 'peer-failed').map((e) => (e.action.type === 'peer-failed' ? e.action.name : ''));

test('a crashed peer is declared dead after deadAfterMs of silence, wherever in the heartbeat cycle it dies', () => {
  const detections: number[] = [];
  for (let offset = 0; offset < heartbeatIntervalMs; offset += 5) {
    const cluster = new Cluster(['a', 'b', 'c']);
    cluster.run(2000 + offset);
    assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b', 'c']);
    cluster.kill('c');
    cluster.run(4000);
    for (const observer of ['a', 'b']) {
      const failed = cluster.actions(observer, 'peer-failed');
      assert.equal(failed.length, 1, `${observer} at offset ${offset}`);
      const detection = failed[0]!;
      assert.ok(detection.action.type === 'peer-failed' && detection.action.name === 'c');
      assert.ok(detection.action.silentForMs > deadAfterMs);
      const alive = cluster.actions(observer, 'alive-changed').at(-1)!;
      assert.deepEqual(alive, { atMs: detection.atMs, action: { type: 'alive-changed', alive: ['a', 'b'] } });
      detections.push(detection.atMs - (2000 + offset));
    }
  }
  // Last heartbeat up to one interval before the kill, then deadAfterMs, seen at the next tick.
  assert.ok(
    Math.min(...detections) > deadAfterMs - heartbeatIntervalMs,
    `fastest ${Math.min(...detections)}`,
  );
  assert.ok(Math.max(...detections) <= deadAfterMs + tickMs + 1, `slowest ${Math.max(...detections)}`);
  assert.ok(Math.max(...detections) <= 400, 'the default budget of the issue');
});

/** GC-like pauses: short ones often, a long one now and then, never longer than `maxMs`. */
function randomStalls(rng: () => number, untilMs: number, maxMs: number): Array<[number, number]> {
  const stalls: Array<[number, number]> = [];
  for (let t = 500; t < untilMs; t += 100 + rng() * 900) {
    const length = rng() < 0.1 ? maxMs * (0.5 + rng() / 2) : rng() * 60;
    stalls.push([t, t + length]);
    t += length;
  }
  return stalls;
}

test('no false alarm in 60 s with jitter, 1% loss and sender stalls up to 240 ms', () => {
  const rng = prng(42);
  const cluster = new Cluster(['a', 'b', 'c'], {
    delayMs: () => 0.1 + rng() * 5,
    tickJitterMs: () => rng() * 5,
    dropRate: 0.01,
  });
  for (const name of cluster.names) cluster.nodes.get(name)!.stalls = randomStalls(rng, 60_000, 240);
  cluster.run(60_000);
  const longStalls = cluster.names
    .flatMap((n) => cluster.nodes.get(n)!.stalls)
    .filter(([f, t]) => t - f > 200);
  assert.ok(longStalls.length >= 5, 'the scenario does contain long stalls');
  for (const name of cluster.names) assert.deepEqual(failedPeers(cluster, name), [], name);
});

test('control: a sender stalled longer than the bound is declared dead, then rejoins when it runs again', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.nodes.get('c')!.stalls = [[1000, 1000 + deadAfterMs + 100]];
  cluster.run(3000);
  assert.deepEqual(failedPeers(cluster, 'a'), ['c']);
  const joined = cluster.actions('a', 'peer-joined').at(-1)!;
  assert.deepEqual(joined.action, { type: 'peer-joined', name: 'c', incarnation: 1000n });
  assert.ok(joined.atMs > cluster.actions('a', 'peer-failed')[0]!.atMs);
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b', 'c']);
});

test('a stalled receiver does not blame its peers for the time it slept', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.nodes.get('a')!.stalls = [[1000, 3000]];
  cluster.run(5000);
  assert.deepEqual(failedPeers(cluster, 'a'), [], 'a slept, b and c did not fall silent');
  // The others did see a go silent for 2 s, and back.
  assert.deepEqual(failedPeers(cluster, 'b'), ['a']);
  assert.deepEqual(aliveMembers(cluster.nodes.get('b')!.state), ['a', 'b', 'c']);
  // After the stall a sends one heartbeat, not one per missed interval.
  const burst = cluster.actions('a', 'broadcast').filter((e) => e.atMs === 3000);
  assert.equal(burst.length, 1);
});

test('a leave is taken at once, is not a failure, and the leaver stops heartbeating', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.run(1000);
  const leave = cluster.deliver('b', { type: 'leave' });
  assert.equal(leave.filter((a) => a.type === 'broadcast').length, MembershipDefaults.leaveRepeats);
  cluster.run(1010);
  const left = cluster.actions('a', 'peer-left');
  assert.deepEqual(
    left.map((e) => e.action),
    [{ type: 'peer-left', name: 'b' }],
  );
  assert.ok(left[0]!.atMs <= 1002, 'the first leave datagram, not a timeout');
  assert.deepEqual(cluster.actions('a', 'alive-changed').at(-1)!.action, {
    type: 'alive-changed',
    alive: ['a', 'c'],
  });
  cluster.run(5000);
  assert.deepEqual(failedPeers(cluster, 'a'), []);
  assert.equal(cluster.actions('b', 'broadcast').filter((e) => e.atMs > 1000).length, 0);
  assert.deepEqual(cluster.deliver('b', { type: 'leave' }), [], 'leaving twice sends nothing more');
});

test('a restarted peer rejoins with its new incarnation; its old messages stay replays', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.run(1000);
  const oldMessage = cluster.actions('c', 'broadcast').at(-1)!.action;
  cluster.kill('c');
  cluster.run(1500);
  assert.deepEqual(failedPeers(cluster, 'a'), ['c']);
  cluster.start('c', 2000n);
  cluster.run(1600);
  const joined = cluster.actions('a', 'peer-joined').at(-1)!.action;
  assert.deepEqual(joined, { type: 'peer-joined', name: 'c', incarnation: 2000n });
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b', 'c']);
  assert.ok(oldMessage.type === 'broadcast');
  const replayed = cluster.deliver('a', { type: 'datagram', bytes: oldMessage.bytes });
  assert.equal(replayed.length, 1);
  assert.equal(replayed[0]!.type === 'rejected' && replayed[0]!.reason, 'replay');
});

test('a duplicate or older datagram is a replay and changes nothing', () => {
  const cluster = new Cluster(['a', 'b']);
  cluster.run(500);
  const sent = cluster
    .actions('b', 'broadcast')
    .filter((e) => e.atMs < 499)
    .map((e) => (e.action.type === 'broadcast' ? e.action.bytes : new Uint8Array()));
  const before = cluster.nodes.get('a')!.state;
  for (const bytes of [sent.at(-1)!, sent[0]!]) {
    const result = step(before, { type: 'datagram', bytes }, at(500));
    assert.equal(result.state, before);
    assert.equal(result.actions[0]?.type === 'rejected' && result.actions[0].reason, 'replay');
  }
});

/** A message as a peer with `key` would sign it, for injecting by hand. */
function signed(
  sender: string,
  type: 'Heartbeat' | 'Leave',
  sequence: bigint,
  wallMs: number,
  withKey = key,
) {
  return encodeMessage({ type, sender, incarnation: 1000n, sequence, sentAtMs: wallMs }, withKey);
}

test('a forged leave (wrong key) is dropped as bad-mac and forces no takeover', () => {
  const cluster = new Cluster(['a', 'b']);
  cluster.run(500);
  const forged = signed('b', 'Leave', 1_000_000n, at(500).wallMs, Buffer.alloc(32, 8));
  const actions = cluster.deliver('a', { type: 'datagram', bytes: forged });
  assert.deepEqual(
    actions.map((a) => a.type === 'rejected' && a.reason),
    ['bad-mac'],
  );
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b']);
});

test('a datagram outside the clock window is stale, even to a receiver with no history', () => {
  const fresh = initialState(config('a'), 1n, ['b'], at(0));
  const old = signed('b', 'Heartbeat', 1n, at(0).wallMs - MembershipDefaults.maxClockSkewMs - 1);
  const result = step(fresh, { type: 'datagram', bytes: old }, at(0));
  assert.equal(result.actions[0]?.type === 'rejected' && result.actions[0].reason, 'stale');
  const future = signed('b', 'Heartbeat', 1n, at(0).wallMs + MembershipDefaults.maxClockSkewMs + 1);
  assert.equal(step(fresh, { type: 'datagram', bytes: future }, at(0)).actions[0]?.type, 'rejected');
  // Within the window, skew is fine.
  const skewed = signed('b', 'Heartbeat', 1n, at(0).wallMs - 1000);
  assert.deepEqual(aliveMembers(step(fresh, { type: 'datagram', bytes: skewed }, at(0)).state), ['a', 'b']);
});

test('unknown senders and our own reflected messages are dropped', () => {
  const state = initialState(config('a'), 1n, ['b'], at(0));
  const stranger = step(state, { type: 'datagram', bytes: signed('z', 'Heartbeat', 1n, WALL0) }, at(0));
  assert.equal(stranger.actions[0]?.type === 'rejected' && stranger.actions[0].reason, 'unknown-sender');
  const own = step(state, { type: 'tick' }, at(0)).actions.find((a) => a.type === 'broadcast');
  assert.ok(own?.type === 'broadcast');
  const reflected = step(state, { type: 'datagram', bytes: own.bytes }, at(1));
  assert.equal(reflected.actions[0]?.type === 'rejected' && reflected.actions[0].reason, 'self');
});

test('property: arbitrary datagrams never throw and never change the alive set', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.run(500);
  const state = cluster.nodes.get('a')!.state;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const result = step(state, { type: 'datagram', bytes }, at(500));
      assert.equal(result.state, state);
      assert.equal(result.actions.length, 1);
      assert.equal(result.actions[0]!.type, 'rejected');
    }),
  );
});

test('a peer whose clock went backwards across a restart rejoins once its old messages have expired', () => {
  const overrides = { maxClockSkewMs: 1000 };
  const cluster = new Cluster(['a', 'b'], {}, 1, overrides);
  cluster.run(500);
  cluster.kill('b');
  cluster.start('b', 999n); // smaller than 1000
  cluster.run(1000);
  assert.ok(
    cluster
      .actions('a', 'rejected')
      .some((e) => e.action.type === 'rejected' && e.action.reason === 'replay'),
  );
  assert.deepEqual(failedPeers(cluster, 'a'), ['b']);
  cluster.run(4000);
  assert.deepEqual(cluster.actions('a', 'peer-joined').at(-1)!.action, {
    type: 'peer-joined',
    name: 'b',
    incarnation: 999n,
  });
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b']);
});

test('settling: no alive-changed until every peer was heard or deadAfterMs passed', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.kill('c');
  cluster.run(deadAfterMs - 1);
  assert.deepEqual(cluster.actions('a', 'settled'), []);
  assert.deepEqual(cluster.actions('a', 'alive-changed'), []);
  cluster.run(deadAfterMs + tickMs);
  assert.deepEqual(
    cluster.actions('a', 'settled').map((e) => e.action),
    [{ type: 'settled', alive: ['a', 'b'] }],
  );
  const quick = new Cluster(['a', 'b']);
  quick.run(10);
  assert.deepEqual(
    quick.actions('a', 'settled').map((e) => [e.atMs, e.action]),
    [[1, { type: 'settled', alive: ['a', 'b'] }]],
  );
});

test('the peer list changes at runtime: removed peers leave the alive set, new ones join when heard', () => {
  const cluster = new Cluster(['a', 'b', 'c']);
  cluster.run(500);
  const removed = cluster.deliver('a', { type: 'set-peers', names: ['a', 'b'] });
  assert.deepEqual(removed, [{ type: 'alive-changed', alive: ['a', 'b'] }]);
  cluster.run(600);
  assert.ok(
    cluster
      .actions('a', 'rejected')
      .some((e) => e.action.type === 'rejected' && e.action.reason === 'unknown-sender'),
  );
  assert.deepEqual(
    cluster.deliver('a', { type: 'set-peers', names: ['b', 'c'] }),
    [],
    'c is unknown until heard',
  );
  cluster.run(700);
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b', 'c']);
});

test('an empty peer list at start means "not known yet": settle only after the grace period', () => {
  let state = initialState(config('a'), 1n, [], at(0));
  const early = step(state, { type: 'tick' }, at(tickMs));
  assert.equal(early.state.settled, false);
  state = early.state;
  const late = step(state, { type: 'tick' }, at(deadAfterMs));
  assert.deepEqual(
    late.actions.filter((a) => a.type === 'settled'),
    [{ type: 'settled', alive: ['a'] }],
  );
});

test('a peer removed and re-added keeps its replay counters: an old datagram of it stays a replay', () => {
  const cluster = new Cluster(['a', 'b']);
  cluster.run(500);
  const captured = cluster
    .actions('b', 'broadcast')
    .filter((e) => e.atMs < 499)
    .at(-1)!.action;
  assert.ok(captured.type === 'broadcast');
  cluster.deliver('a', { type: 'set-peers', names: ['a'] });
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a']);
  cluster.deliver('a', { type: 'set-peers', names: ['a', 'b'] });
  const replayed = cluster.deliver('a', { type: 'datagram', bytes: captured.bytes });
  assert.deepEqual(
    replayed.map((a) => a.type === 'rejected' && a.reason),
    ['replay'],
  );
  cluster.run(600);
  assert.deepEqual(cluster.actions('a', 'peer-joined').at(-1)!.action, {
    type: 'peer-joined',
    name: 'b',
    incarnation: 1000n,
  });
  assert.deepEqual(aliveMembers(cluster.nodes.get('a')!.state), ['a', 'b']);
  assert.deepEqual(failedPeers(cluster, 'a'), [], 'removal and re-adding are not failures');
});
