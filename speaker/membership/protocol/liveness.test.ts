import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MembershipMessage } from '../codec/codec.ts';
import { MembershipDefaults } from './config.ts';
import { agePeers, statusHeard } from './liveness.ts';
import { newPeer } from './peer-list.ts';
import { initialState } from './protocol.ts';
import type { MembershipAction, PeerRecord, PeerStatus } from './state.ts';
import { at, testConfig } from './test-helpers.ts';

// The liveness part on its own (step-level behaviour: protocol.test.ts): one row per transition a
// message makes, as the FSM's table tests do.

const { deadAfterMs, maxRestartHoldMs, tickMs } = MembershipDefaults;
const NOW = at(10_000);

function message(type: MembershipMessage['type'], extra: Partial<MembershipMessage> = {}): MembershipMessage {
  return { type, sender: 'b', incarnation: 5n, sequence: 9n, sentAtMs: NOW.wallMs, ...extra };
}

function peer(status: PeerStatus, extra: Partial<PeerRecord> = {}): PeerRecord {
  return { ...newPeer(at(0)), status, incarnation: 5n, ...extra };
}

interface Row {
  readonly name: string;
  readonly from: PeerStatus;
  readonly message: MembershipMessage;
  readonly reborn?: boolean;
  readonly to: PeerStatus;
  /** The action it reports, or none (the record is the same object then). */
  readonly reports: MembershipAction | undefined;
  readonly restartUntilMonoMs?: number;
}

const rows: Row[] = [
  {
    name: 'first word',
    from: 'unknown',
    message: message('Heartbeat'),
    to: 'alive',
    reports: { type: 'peer-joined', name: 'b', incarnation: 5n },
  },
  {
    name: 'back from the dead',
    from: 'dead',
    message: message('Holdings'),
    to: 'alive',
    reports: { type: 'peer-joined', name: 'b', incarnation: 5n },
  },
  {
    name: 'alive stays alive',
    from: 'alive',
    message: message('Heartbeat'),
    to: 'alive',
    reports: undefined,
  },
  {
    name: 'goodbye',
    from: 'alive',
    message: message('Leave'),
    to: 'left',
    reports: { type: 'peer-left', name: 'b' },
  },
  { name: 'goodbye repeated', from: 'left', message: message('Leave'), to: 'left', reports: undefined },
  {
    name: 'restart in place',
    from: 'alive',
    message: message('Restarting', { holdMs: 5000 }),
    to: 'restarting',
    reports: { type: 'peer-restarting', name: 'b', holdMs: 5000 },
    restartUntilMonoMs: NOW.monoMs + 5000,
  },
  {
    name: 'a hold beyond the cap is cut to it',
    from: 'alive',
    message: message('Restarting', { holdMs: maxRestartHoldMs * 10 }),
    to: 'restarting',
    reports: { type: 'peer-restarting', name: 'b', holdMs: maxRestartHoldMs },
    restartUntilMonoMs: NOW.monoMs + maxRestartHoldMs,
  },
  {
    name: 'Restarting repeated keeps the first hold',
    from: 'restarting',
    message: message('Restarting', { holdMs: 5000 }),
    to: 'restarting',
    reports: undefined,
  },
  {
    name: 'a new incarnation restarting again starts a new hold',
    from: 'restarting',
    message: message('Restarting', { holdMs: 3000 }),
    reborn: true,
    to: 'restarting',
    reports: { type: 'peer-restarting', name: 'b', holdMs: 3000 },
    restartUntilMonoMs: NOW.monoMs + 3000,
  },
  {
    name: 'back from a restart',
    from: 'restarting',
    message: message('Heartbeat'),
    reborn: true,
    to: 'alive',
    reports: { type: 'peer-joined', name: 'b', incarnation: 5n },
  },
];

for (const row of rows) {
  test(`statusHeard: ${row.name} (${row.from} + ${row.message.type} -> ${row.to})`, () => {
    const before = peer(row.from, { restartUntilMonoMs: row.from === 'restarting' ? 1 : undefined });
    const actions: MembershipAction[] = [];
    const heard = {
      message: row.message,
      before,
      onLan: false,
      reborn: row.reborn ?? false,
      returned: false,
    };
    const after = statusHeard(before, heard, NOW, maxRestartHoldMs, actions);
    assert.equal(after.status, row.to);
    assert.deepEqual(actions, row.reports ? [row.reports] : []);
    if (row.reports === undefined) assert.equal(after, before, 'no change, same record');
    else assert.equal(after.changedAtMonoMs, NOW.monoMs);
    if (row.restartUntilMonoMs !== undefined) assert.equal(after.restartUntilMonoMs, row.restartUntilMonoMs);
    if (row.to !== 'restarting')
      assert.equal(after.restartUntilMonoMs, undefined, 'no hold outside restarting');
  });
}

test('agePeers: a late tick moves what was heard later by the time slept, never past now', () => {
  let state = initialState(testConfig('a'), 1n, ['a', 'b'], at(0));
  const heard = peer('alive', { lastHeardMonoMs: 0, holdingsHeardMonoMs: 0, nodeAliveMonoMs: undefined });
  state = { ...state, peers: new Map([['b', heard]]), lastTickMonoMs: 0 };
  // Slept for longer than the dead time: without the compensation b would be dead.
  const late = at(deadAfterMs * 3);
  const actions: MembershipAction[] = [];
  const { peers, failed } = agePeers(state, late, actions);
  const aged = peers.get('b')!;
  assert.equal(failed, false);
  assert.deepEqual(actions, []);
  assert.equal(aged.status, 'alive');
  assert.equal(aged.lastHeardMonoMs, late.monoMs - tickMs, 'the slept time, less one tick, is not silence');
  assert.equal(aged.holdingsHeardMonoMs, late.monoMs - tickMs);
  assert.equal(aged.nodeAliveMonoMs, undefined, 'what was never heard stays unheard');
});

test('agePeers: control: on time, the same silence fails the peer', () => {
  let state = initialState(testConfig('a'), 1n, ['a', 'b'], at(0));
  const late = at(deadAfterMs * 3);
  state = {
    ...state,
    peers: new Map([['b', peer('alive', { lastHeardMonoMs: 0 })]]),
    lastTickMonoMs: late.monoMs - tickMs,
  };
  const actions: MembershipAction[] = [];
  const { peers, failed } = agePeers(state, late, actions);
  assert.equal(failed, true);
  assert.equal(peers.get('b')!.status, 'dead');
  assert.deepEqual(actions, [{ type: 'peer-failed', name: 'b', silentForMs: late.monoMs }]);
});
