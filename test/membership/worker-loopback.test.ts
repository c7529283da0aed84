import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../shared/metrics/metrics.ts';
import { promMembershipMetrics } from '../../speaker/membership/io/metrics.ts';
import {
  MembershipBindError,
  type UdpMembershipOptions,
} from '../../speaker/membership/io/udp-membership.ts';
import { WorkerMembership } from '../../speaker/membership/io/worker-membership.ts';
import { MembershipConfigError } from '../../speaker/membership/protocol/config.ts';
import { freePort } from '../support/free-port.ts';

// Membership in a Worker keeps heartbeating and detecting while the main thread is blocked
// (what the speaker daemon needs: its main thread parses API lists and collects garbage).
// The witness is a speaker in another process: had the Worker stopped during the block, it
// would have declared the Worker's node dead. No timed assertions: order and absence only.

const keyHex = randomBytes(32).toString('hex');
const keys = [Buffer.from(keyHex, 'hex')];
const script = fileURLToPath(new URL('./membership-node.ts', import.meta.url));
const started: Array<WorkerMembership | ChildProcess> = [];
after(async () => {
  for (const thing of started) {
    if (thing instanceof WorkerMembership) await thing.close();
    else if (thing.exitCode === null && thing.signalCode === null) {
      const exited = once(thing, 'exit');
      thing.kill('SIGKILL');
      await exited;
    }
  }
});

interface Line {
  event: string;
  alive?: string[];
  name?: string;
  port?: number;
}

/** A speaker in a child process on loopback; its JSON lines in order. */
async function witness(name: string) {
  const child = fork(
    script,
    [JSON.stringify({ name, keyHex, peers: [], bindAddress: '127.0.0.1', port: 0 })],
    {
      execPath: process.execPath,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  started.push(child);
  const lines: Line[] = [];
  const waiters: Array<() => void> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part) as Line);
    for (const wake of waiters.splice(0)) wake();
  });
  const waitLine = async (match: (l: Line) => boolean): Promise<number> => {
    while (lines.findIndex(match) < 0) await new Promise<void>((resolve) => waiters.push(resolve));
    return lines.findIndex(match);
  };
  const ready = lines[await waitLine((l) => l.event === 'ready')]!;
  return { child, lines, waitLine, port: ready.port! };
}

/** A membership on 127.0.0.1 (a free port unless `options` name one), with the test's keys. */
const onLoopback = (nodeName: string, options: Partial<UdpMembershipOptions> = {}) =>
  WorkerMembership.start({ nodeName, keys, bindAddress: '127.0.0.1', port: 0, peers: [], ...options });

const same = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);

function waitAlive(node: WorkerMembership, alive: readonly string[]): Promise<void> {
  if (node.settled && same(node.alive(), alive)) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (now: readonly string[]) => {
      if (!same(now, alive)) return;
      node.off('settled', check);
      node.off('alive-changed', check);
      resolve();
    };
    node.on('settled', check);
    node.on('alive-changed', check);
  });
}

test('a Worker membership survives a blocked main thread; a peer in another process sees no failure', async () => {
  const registry = new Registry();
  const a = await onLoopback('a', { metrics: promMembershipMetrics(registry) });
  const b = await onLoopback('b');
  started.push(a, b);
  const c = await witness('c');
  const peers = [
    { name: 'a', address: '127.0.0.1', port: a.port },
    { name: 'b', address: '127.0.0.1', port: b.port },
    { name: 'c', address: '127.0.0.1', port: c.port },
  ];
  const failedOnA: string[] = [];
  a.on('peer-failed', (name) => failedOnA.push(name));
  assert.deepEqual(a.setPeers(peers), []);
  b.setPeers(peers);
  c.child.send({ peers });
  await waitAlive(a, ['a', 'b', 'c']);
  await waitAlive(b, ['a', 'b', 'c']);
  await c.waitLine((l) => l.event === 'alive' && same(l.alive, ['a', 'b', 'c']));

  // Block this thread for five times the detection timeout.
  const until = performance.now() + 1500;
  while (performance.now() < until) {
    // nothing else runs on this thread meanwhile; the Workers and c do run
  }

  // Causality instead of a clock: b stops after the block, so any failure c saw during the
  // block is printed before its failure of b.
  await b.close();
  const failedB = await c.waitLine((l) => l.event === 'peer-failed' && l.name === 'b');
  assert.deepEqual(
    c.lines.slice(0, failedB + 1).filter((l) => l.event === 'peer-failed'),
    [{ event: 'peer-failed', name: 'b' }],
  );
  await waitAlive(a, ['a', 'c']);
  assert.deepEqual(failedOnA, ['b'], 'a saw only b fail, not c during the block');
  assert.match(await registry.metrics(), /failures_detected_total\{peer="b"\} 1$/m);

  // And a graceful leave from the Worker reaches c as a leave.
  await a.leave();
  await c.waitLine((l) => l.event === 'peer-left' && l.name === 'a');
});

test('start errors surface on the caller thread with their type', async () => {
  await assert.rejects(
    WorkerMembership.start({ nodeName: 'Bad_Name', keys, peers: [] }),
    (e: unknown) => e instanceof MembershipConfigError && e.field === 'nodeName',
  );
  const first = await onLoopback('x');
  started.push(first);
  await assert.rejects(
    onLoopback('y', { port: first.port }),
    (e: unknown) => e instanceof MembershipBindError && e.code === 'EADDRINUSE' && e.port === first.port,
  );
  assert.deepEqual(first.setPeers([{ name: 'z', address: 'nowhere' }]), [
    'peer z: address "nowhere" is not an IP address',
  ]);
  await first.close();
  // A bad peer in the start options is a warning on the caller's logger, not a failed start.
  const warnings: object[] = [];
  const logger = { info() {}, debug() {}, warn: (obj: object) => warnings.push(obj) };
  const withBadPeer = await onLoopback('w', { peers: [{ name: 'v', address: '::1' }], logger });
  await withBadPeer.close();
  assert.deepEqual(warnings, [{ problem: 'peer v: IPv6 address on an IPv4 socket' }]);
});

test('holdings cross real sockets and the Worker: a speaker that starts late knows them when it settles; a withdrawal arrives', async () => {
  const bPort = await freePort();
  const a = await onLoopback('a');
  started.push(a);
  const peers = [
    { name: 'a', address: '127.0.0.1', port: a.port },
    { name: 'b', address: '127.0.0.1', port: bPort },
  ];
  a.setPeers(peers);
  // Many IPs, IPv6 mostly: a datagram of several kB through the screen, the MAC and the Worker.
  const held = [
    '198.51.100.1',
    ...Array.from({ length: 300 }, (_, i) => `2001:db8:100::${(i + 1).toString(16)}`),
  ];
  a.setHoldings(held);
  // b starts with its peers known, as the speaker does: it settles once it has heard a.
  const b = await onLoopback('b', { port: bPort, peers });
  started.push(b);
  // What b knows of a's holdings at the moment it settles (the plan it makes then uses it).
  const atSettle = await new Promise<readonly string[] | undefined>((resolve) => {
    if (b.settled) resolve(b.holdings().get('a'));
    else b.once('settled', () => resolve(b.holdings().get('a')));
  });
  assert.deepEqual(b.alive(), ['a', 'b']);
  assert.deepEqual(atSettle, held);
  assert.equal(a.holdings().size, 0, 'b holds nothing: nothing about it');
  const emptied = new Promise<void>((resolve) => {
    const check = () => {
      if (b.holdings().size > 0) return;
      b.off('holdings-changed', check);
      resolve();
    };
    b.on('holdings-changed', check);
  });
  a.setHoldings([]);
  await emptied;
  assert.deepEqual(b.rejected().malformed ?? 0, 0);
  await a.close();
  await b.close();
});
