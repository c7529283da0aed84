import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { L2Transport } from '../../speaker/l2/io/transport.ts';
import { MembershipBindError } from '../../speaker/membership/io/udp-membership.ts';
import { WorkerMembership } from '../../speaker/membership/io/worker-membership.ts';
import { startNetworkPart } from '../../speaker/network-thread/thread.ts';

// The speaker's network thread: the L2 packet worker and membership share one Worker, each
// on its own port; one part stopping (or failing to start) leaves the other running; the
// thread ends with its last part and starts again for the next one. No root needed: the L2
// part is given no interface, so it opens no socket.

const keys = [Buffer.alloc(32, 7)];
const loopback = (nodeName: string, port = 0) => ({
  nodeName,
  keys,
  bindAddress: '127.0.0.1',
  port,
  peers: [],
});

function l2(): { transport: L2Transport; exits: Array<Error | undefined> } {
  const exits: Array<Error | undefined> = [];
  const transport = new L2Transport({ onEvent: () => {}, onExit: (error) => exits.push(error) });
  return { transport, exits };
}

test('membership stopping, or failing to bind, leaves the L2 part answering; both stop cleanly', async () => {
  const { transport, exits } = l2();
  const membership = await WorkerMembership.start(loopback('a'));
  assert.deepEqual((await transport.snapshot()).active, []);

  // A bind failure is a MembershipBindError and ends only that part.
  await assert.rejects(
    WorkerMembership.start(loopback('b', membership.port)),
    (e: unknown) => e instanceof MembershipBindError && e.code === 'EADDRINUSE',
  );
  assert.deepEqual((await transport.snapshot()).counters, []);

  await membership.leave();
  assert.deepEqual((await transport.snapshot()).active, [], 'L2 still answers after membership left');
  await transport.stop();
  assert.deepEqual(exits, [], 'a requested stop is no exit');
  await assert.rejects(transport.request({ type: 'reassert' }), /not running/);

  // The thread ended with its last part; the next part starts a new one.
  const again = await WorkerMembership.start(loopback('c'));
  const second = l2();
  await second.transport.snapshot();
  await second.transport.stop();
  assert.equal(again.alive().length, 1);
  await again.close();
});

test('when the thread dies, every part on it hears of it, with its error', async () => {
  const { transport, exits } = l2();
  const membership = await WorkerMembership.start(loopback('a'));
  const membershipError = once(membership, 'error');
  const ended = new Promise<Error>((resolve) => {
    // A part of our own that the L2 worker cannot read: its message handler throws.
    const broken = startNetworkPart({ part: 'l2', priority: 0 }, resolve);
    broken.port.postMessage(null);
  });
  const error = await ended;
  assert.match(String(error), /TypeError/);
  assert.deepEqual(await membershipError, [error], 'membership ran on the same thread');
  await assert.rejects(transport.request({ type: 'reassert' }));
  assert.deepEqual(exits, [error]);
  // Stopping what is gone does not hang.
  await transport.stop();
  await membership.close();
  // And a new part gets a new thread.
  const after = l2();
  await after.transport.snapshot();
  await after.transport.stop();
});
