import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, test } from 'node:test';
import { Registry } from '../../shared/metrics/metrics.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { encodeMessage } from '../../speaker/membership/codec/codec.ts';
import { promMembershipMetrics } from '../../speaker/membership/io/metrics.ts';
import {
  MembershipBindError,
  type MembershipPeer,
  UdpMembership,
  type UdpMembershipEvents,
} from '../../speaker/membership/io/udp-membership.ts';

// Real UDP endpoints on loopback. No timed assertions: each test waits for events (the
// runner's timeout is the only clock) and checks what happened and in which order.

const keys = [Buffer.from('loopback-membership-test-key-0001')];
const open: UdpMembership[] = [];
after(async () => {
  for (const node of open) await node.close();
});

interface Entry {
  readonly node: string;
  readonly event: keyof UdpMembershipEvents | 'closed';
  readonly args: readonly unknown[];
}

/** Every event of every node in one ordered log, and a way to wait for an entry. */
class Recorder {
  readonly log: Entry[] = [];
  private waiters: Array<{ match: (e: Entry) => boolean; resolve: () => void }> = [];

  watch(name: string, node: UdpMembership): void {
    const events = [
      'alive-changed',
      'settled',
      'peer-failed',
      'peer-left',
      'peer-joined',
      'peer-restarting',
      'resumed',
    ] as const;
    for (const event of events) node.on(event, (...args: unknown[]) => this.add({ node: name, event, args }));
  }

  add(entry: Entry): void {
    this.log.push(entry);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(entry)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves with the index of the first entry that matches (waiting for it if needed). */
  async waitFor(node: string, event: Entry['event'], arg0?: unknown, afterIndex = -1): Promise<number> {
    return this.waitUntil(
      (e) => e.node === node && e.event === event && (arg0 === undefined || isDeepEqual(e.args[0], arg0)),
      afterIndex,
    );
  }

  /** Waits until `node` reports exactly this alive set, when it settles or later. */
  waitAlive(node: string, alive: readonly string[], afterIndex = -1): Promise<number> {
    return this.waitUntil(
      (e) =>
        e.node === node &&
        (e.event === 'settled' || e.event === 'alive-changed') &&
        isDeepEqual(e.args[0], alive),
      afterIndex,
    );
  }

  private async waitUntil(match: (e: Entry) => boolean, afterIndex: number): Promise<number> {
    const find = () => this.log.findIndex((e, i) => i > afterIndex && match(e));
    if (find() < 0) await new Promise<void>((resolve) => this.waiters.push({ match, resolve }));
    return find();
  }

  count(node: string, event: Entry['event'], arg0?: unknown): number {
    return this.log.filter(
      (e) => e.node === node && e.event === event && (arg0 === undefined || isDeepEqual(e.args[0], arg0)),
    ).length;
  }
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Starts one node per name on `address`, port 0, then gives each the others' ports. */
async function cluster(names: readonly string[], recorder: Recorder, address = '127.0.0.1') {
  const nodes = new Map<string, UdpMembership>();
  for (const name of names) {
    const node = await UdpMembership.start({
      nodeName: name,
      keys,
      bindAddress: address,
      port: 0,
      peers: [],
    });
    open.push(node);
    recorder.watch(name, node);
    nodes.set(name, node);
  }
  const peers: MembershipPeer[] = names.map((name) => ({ name, address, port: nodes.get(name)!.port }));
  for (const node of nodes.values()) node.setPeers(peers);
  return { nodes, peers };
}

test('three speakers see each other; a closed one is detected dead by both others, then rejoins', async () => {
  const recorder = new Recorder();
  const { nodes, peers } = await cluster(['a', 'b', 'c'], recorder);
  for (const name of ['a', 'b', 'c']) await recorder.waitAlive(name, ['a', 'b', 'c']);

  await nodes.get('c')!.close();
  recorder.add({ node: 'c', event: 'closed', args: [] });
  const closedAt = recorder.log.length - 1;
  for (const observer of ['a', 'b']) {
    const failed = await recorder.waitFor(observer, 'peer-failed', 'c');
    const shrunk = await recorder.waitFor(observer, 'alive-changed', ['a', 'b'], closedAt);
    assert.ok(
      closedAt < failed && failed < shrunk,
      `${observer}: close, then failure, then the new alive set`,
    );
    assert.deepEqual(nodes.get(observer)!.alive(), ['a', 'b']);
  }

  // A restart is a new incarnation on a new port; the API would give the others its address.
  const restarted = await UdpMembership.start({
    nodeName: 'c',
    keys,
    bindAddress: '127.0.0.1',
    port: 0,
    peers,
  });
  open.push(restarted);
  const newPeers = peers.map((p) => (p.name === 'c' ? { ...p, port: restarted.port } : p));
  nodes.get('a')!.setPeers(newPeers);
  nodes.get('b')!.setPeers(newPeers);
  for (const observer of ['a', 'b']) {
    const joined = await recorder.waitFor(observer, 'peer-joined', 'c', closedAt);
    assert.ok(joined < (await recorder.waitAlive(observer, ['a', 'b', 'c'], closedAt)));
  }
  // Nobody ever took a or b for dead.
  for (const observer of ['a', 'b', 'c']) {
    assert.equal(
      recorder.count(observer, 'peer-failed', 'a') + recorder.count(observer, 'peer-failed', 'b'),
      0,
    );
  }
  await restarted.close();
});

test('a leaving speaker is dropped at once and never counted as failed', async () => {
  const recorder = new Recorder();
  const { nodes } = await cluster(['a', 'b', 'c'], recorder);
  for (const name of ['a', 'b', 'c']) await recorder.waitAlive(name, ['a', 'b', 'c']);
  await nodes.get('b')!.leave();
  for (const observer of ['a', 'c']) {
    const left = await recorder.waitFor(observer, 'peer-left', 'b');
    assert.ok(left < (await recorder.waitFor(observer, 'alive-changed', ['a', 'c'])));
  }
  // Causality stands in for a clock: c goes silent after b left, so had b been taken for
  // failed by timeout, that would have come before c's failure.
  await nodes.get('c')!.close();
  await recorder.waitFor('a', 'peer-failed', 'c');
  assert.equal(recorder.count('a', 'peer-failed', 'b'), 0);
  assert.equal(recorder.count('c', 'peer-failed', 'b'), 0);
  assert.deepEqual(nodes.get('a')!.alive(), ['a']);
});

test('restart in place: the peers keep the IPs of a restarting speaker past the dead time, and tell the new one what it held', async () => {
  const recorder = new Recorder();
  const { nodes, peers } = await cluster(['a', 'b', 'c'], recorder);
  for (const name of ['a', 'b', 'c']) await recorder.waitAlive(name, ['a', 'b', 'c']);
  const b = nodes.get('b')!;
  b.setHoldings(['198.51.100.1', '2001:db8:100::5']);
  await waitFor('a hears what b holds', () => nodes.get('a')!.holdings().has('b') || undefined);
  await b.restart(10_000);
  recorder.add({ node: 'b', event: 'closed', args: [] });
  for (const observer of ['a', 'c']) await recorder.waitFor(observer, 'peer-restarting', 'b');
  // Far past the dead time (300 ms), b's port refusing every heartbeat: kept, not failed.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  for (const observer of ['a', 'c']) {
    const node = nodes.get(observer)!;
    assert.equal(recorder.count(observer, 'peer-failed', 'b'), 0, observer);
    assert.deepEqual(node.restarting(), ['b']);
    assert.deepEqual(node.holdings().get('b'), ['198.51.100.1', '2001:db8:100::5']);
    assert.deepEqual(node.alive(), ['a', 'c']);
  }
  // The next speaker of b, on the same port: the peers tell it what it held.
  const port = peers.find((p) => p.name === 'b')!.port;
  const next = await UdpMembership.start({ nodeName: 'b', keys, bindAddress: '127.0.0.1', port, peers });
  open.push(next);
  recorder.watch('b2', next);
  await recorder.waitFor('b2', 'resumed', ['198.51.100.1', '2001:db8:100::5']);
  assert.deepEqual(next.resumed(), ['198.51.100.1', '2001:db8:100::5']);
  for (const observer of ['a', 'c']) {
    await recorder.waitAlive(observer, ['a', 'b', 'c']);
    assert.deepEqual(nodes.get(observer)!.holdings().get('b'), ['198.51.100.1', '2001:db8:100::5']);
    assert.equal(recorder.count(observer, 'peer-failed', 'b'), 0, observer);
  }
  // Its first plan took them again: what it says from now on is what counts.
  next.setHoldings(['198.51.100.1']);
  await waitFor('a hears the new holdings', () =>
    nodes.get('a')!.holdings().get('b')?.length === 1 ? true : undefined,
  );
  await next.close();
});

test('garbage, a forged leave, a replayed heartbeat and wrong sources are dropped and counted', async () => {
  const recorder = new Recorder();
  const registry = new Registry();
  const b = await UdpMembership.start({
    nodeName: 'b',
    keys,
    bindAddress: '127.0.0.1',
    port: 0,
    peers: [],
    metrics: promMembershipMetrics(registry),
  });
  const a = await UdpMembership.start({ nodeName: 'a', keys, bindAddress: '127.0.0.1', port: 0, peers: [] });
  open.push(a, b);
  recorder.watch('a', a);
  recorder.watch('b', b);
  // The spoofer has a's port on another loopback address, which b takes for one of a's
  // addresses (as a multi-homed node's): what a LAN host that spoofs a's address looks like.
  // It is also listed as a peer of a, so it receives a's genuine heartbeats to replay them.
  const spoofer = createSocket('udp4');
  await new Promise<void>((resolve) => spoofer.bind(a.port, '127.0.0.3', resolve));
  const stranger = createSocket('udp4');
  await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.1', resolve));
  const captured = new Promise<Buffer>((resolve) => spoofer.once('message', resolve));
  a.setPeers([
    { name: 'b', address: '127.0.0.1', port: b.port },
    { name: 'spy', address: '127.0.0.3', port: a.port },
  ]);
  b.setPeers([{ name: 'a', address: '127.0.0.1', addresses: ['127.0.0.3'], port: a.port }]);
  await recorder.waitAlive('b', ['a', 'b']);

  const sendFrom = (socket: typeof spoofer, bytes: Uint8Array) =>
    new Promise<void>((resolve) => socket.send(bytes, b.port, '127.0.0.1', () => resolve()));
  await sendFrom(spoofer, Buffer.from('not a membership datagram'));
  const forged = encodeMessage(
    { type: 'Leave', sender: 'a', incarnation: 1n << 62n, sequence: 1n, sentAtMs: Date.now() },
    Buffer.from('a-guessed-key-that-is-not-the-one'),
  );
  await sendFrom(spoofer, forged);
  const genuine = await captured;
  await sendFrom(spoofer, genuine);
  await sendFrom(spoofer, genuine);
  // From a's address but another port, and from an address of no peer: dropped unread.
  await sendFrom(stranger, genuine);
  await sendFrom(stranger, forged);
  const other = createSocket('udp4');
  await new Promise<void>((resolve) => other.bind(0, '127.0.0.2', resolve));
  await sendFrom(other, forged);
  const counts = await waitFor('every datagram counted', () => {
    const r = b.rejected();
    return r.malformed && r['bad-mac'] && r.replay && r['source-mismatch'] === 2 && r['unknown-source']
      ? r
      : undefined;
  });
  for (const socket of [spoofer, stranger, other]) socket.close();

  assert.deepEqual(
    { ...counts, replay: 1 },
    { malformed: 1, 'bad-mac': 1, replay: 1, 'source-mismatch': 2, 'unknown-source': 1 },
    'the genuine heartbeat replayed once or twice (the first may arrive before a newer one)',
  );
  assert.equal(recorder.count('b', 'peer-left', 'a'), 0, 'the forged leave forced no takeover');
  assert.deepEqual(b.alive(), ['a', 'b']);
  await a.close();
  await b.close();
  // The counts reach the metrics in batches; closing flushes the last one.
  const text = await registry.metrics();
  assert.match(text, /messages_rejected_total\{reason="malformed"\} 1$/m);
  assert.match(text, /messages_rejected_total\{reason="bad-mac"\} 1$/m);
  assert.match(text, /messages_rejected_total\{reason="replay"\} [12]$/m);
  assert.match(text, /messages_rejected_total\{reason="source-mismatch"\} 2$/m);
  assert.match(text, /messages_rejected_total\{reason="unknown-source"\} 1$/m);
  assert.match(text, /^metalbeacon_membership_alive_members 2$/m);
});

test('IPv6 loopback, and a dual-stack socket talking to an IPv4-only one', async () => {
  const recorder = new Recorder();
  const { nodes } = await cluster(['v6a', 'v6b'], recorder, '::1');
  await recorder.waitAlive('v6a', ['v6a', 'v6b']);
  await recorder.waitAlive('v6b', ['v6a', 'v6b']);
  for (const node of nodes.values()) await node.close();

  const dual = await UdpMembership.start({ nodeName: 'dual', keys, bindAddress: '::', port: 0, peers: [] });
  const v4 = await UdpMembership.start({
    nodeName: 'v4',
    keys,
    bindAddress: '127.0.0.1',
    port: 0,
    peers: [],
  });
  open.push(dual, v4);
  recorder.watch('dual', dual);
  recorder.watch('v4', v4);
  dual.setPeers([{ name: 'v4', address: '127.0.0.1', port: v4.port }]);
  v4.setPeers([{ name: 'dual', address: '127.0.0.1', port: dual.port }]);
  await recorder.waitAlive('dual', ['dual', 'v4']);
  await recorder.waitAlive('v4', ['dual', 'v4']);
  await dual.close();
  await v4.close();
});

test('bad peers are skipped with a reason; a taken port is a bind error naming it', async () => {
  const node = await UdpMembership.start({
    nodeName: 'a',
    keys,
    bindAddress: '127.0.0.1',
    port: 0,
    peers: [],
  });
  open.push(node);
  const problems = node.setPeers([
    { name: 'b', address: 'not-an-ip', port: 1 },
    { name: 'c', address: '::1', port: 7 },
    { name: 'd', address: '127.0.0.1', port: 70000 },
    { name: 'e', address: '127.0.0.1', port: 9 },
  ]);
  assert.deepEqual(problems, [
    'peer b: address "not-an-ip" is not an IP address',
    'peer c: IPv6 address on an IPv4 socket',
    'peer d: port 70000 is invalid',
  ]);
  await assert.rejects(
    UdpMembership.start({ nodeName: 'x', keys, bindAddress: '127.0.0.1', port: node.port, peers: [] }),
    (e: unknown) =>
      e instanceof MembershipBindError && e.message.includes(`127.0.0.1:${node.port}: EADDRINUSE`),
  );
  await node.close();
});
