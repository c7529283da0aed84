import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { BgpMessage, OpenMessage } from '../codec/index.ts';
import { backoffMs } from './backoff.ts';
import { validateFsmConfig } from './config.ts';
import { initialState, step } from './fsm.ts';
import { CONFIG, PEER_OPEN } from './test-config.ts';
import type { FsmAction, FsmEvent, FsmState, FsmStateName } from './types.ts';

function run(state: FsmState, events: FsmEvent[]): FsmState {
  let st = state;
  for (const e of events) st = step(st, e, 1000).state;
  return st;
}

const idle = initialState(CONFIG);
const connect = run(idle, [{ type: 'ManualStart' }]);
const active = run(initialState({ ...CONFIG, passive: true }), [{ type: 'ManualStart' }]);
const openSent = run(connect, [{ type: 'TcpCRAcked', conn: 'out#1' }]);
const openConfirm = run(openSent, [{ type: 'Message', conn: 'out#1', message: PEER_OPEN }]);
const established = run(openConfirm, [{ type: 'Message', conn: 'out#1', message: { type: 'keepalive' } }]);

const STATES: Record<FsmStateName, FsmState> = {
  Idle: idle,
  Connect: connect,
  Active: active,
  OpenSent: openSent,
  OpenConfirm: openConfirm,
  Established: established,
};

const msg = (message: BgpMessage): FsmEvent => ({ type: 'Message', conn: 'out#1', message });
const EVENTS: Record<string, FsmEvent> = {
  'ManualStart (1)': { type: 'ManualStart' },
  'ManualStop (2)': { type: 'ManualStop' },
  'AutomaticStart (3)': { type: 'AutomaticStart' },
  'AutomaticStop (8)': { type: 'AutomaticStop' },
  'ConnectRetryTimer_Expires (9)': { type: 'ConnectRetryTimerExpires' },
  'HoldTimer_Expires (10)': { type: 'HoldTimerExpires' },
  'KeepaliveTimer_Expires (11)': { type: 'KeepaliveTimerExpires' },
  'IdleHoldTimer_Expires (13)': { type: 'IdleHoldTimerExpires' },
  'Tcp_CR_Acked (16) on our connect': { type: 'TcpCRAcked', conn: 'out#1' },
  'TcpConnectionConfirmed (17) new': { type: 'TcpConnectionConfirmed', conn: 'in#9' },
  'TcpConnectionFails (18)': { type: 'TcpConnectionFails', conn: 'out#1' },
  'BGPOpen (19)': msg(PEER_OPEN),
  'BGPOpen (19) wrong peer AS': msg({ ...PEER_OPEN, myAs: 65099, capabilities: [] }),
  'BGPHeaderErr (21)': {
    type: 'MessageError',
    conn: 'out#1',
    code: 1,
    subcode: 2,
    data: Uint8Array.of(0, 18),
  },
  'BGPOpenMsgErr (22)': { type: 'MessageError', conn: 'out#1', code: 2, subcode: 6, data: new Uint8Array(0) },
  'NotifMsgVerErr (24)': msg({ type: 'notification', code: 2, subcode: 1, data: Uint8Array.of(0, 4) }),
  'NotifMsg (25)': msg({ type: 'notification', code: 6, subcode: 2, data: new Uint8Array(0) }),
  'KeepAliveMsg (26)': msg({ type: 'keepalive' }),
  'UpdateMsg (27)': msg({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }),
  'UpdateMsgErr (28)': { type: 'MessageError', conn: 'out#1', code: 3, subcode: 1, data: new Uint8Array(0) },
  'ROUTE-REFRESH': msg({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 }),
  'ROUTE-REFRESH error': {
    type: 'MessageError',
    conn: 'out#1',
    code: 7,
    subcode: 1,
    data: new Uint8Array(0),
  },
  'BFD Down (RFC 9384)': { type: 'BfdDown' },
  'BFD Up': { type: 'BfdUp' },
};

/** Short text of what an action sends or does, for the table. */
function describe_(a: FsmAction): string | undefined {
  switch (a.type) {
    case 'send':
      return a.message.type === 'notification'
        ? `notify ${a.message.code}/${a.message.subcode}`
        : `send ${a.message.type} on ${a.conn}`;
    case 'connect':
      return `connect ${a.conn}`;
    case 'close':
      return `close ${a.conn}`;
    case 'established':
    case 'down':
    case 'routeRefresh':
    case 'update':
      return a.type;
    default:
      return undefined;
  }
}

/**
 * One row per (state, event) of RFC 4271 §8.2.2: the next state and the outward actions that
 * matter (messages, connections, session signals). Timers are checked in their own tests.
 */
const TABLE: [FsmStateName, string, FsmStateName, string[]][] = [
  // Idle: starts connect (or listen when passive); everything else is ignored; offers refused.
  ['Idle', 'ManualStart (1)', 'Connect', ['connect out#1']],
  ['Idle', 'ManualStop (2)', 'Idle', []],
  ['Idle', 'AutomaticStart (3)', 'Connect', ['connect out#1']],
  ['Idle', 'AutomaticStop (8)', 'Idle', []],
  ['Idle', 'ConnectRetryTimer_Expires (9)', 'Idle', []],
  ['Idle', 'HoldTimer_Expires (10)', 'Idle', []],
  ['Idle', 'KeepaliveTimer_Expires (11)', 'Idle', []],
  ['Idle', 'IdleHoldTimer_Expires (13)', 'Connect', ['connect out#1']],
  ['Idle', 'Tcp_CR_Acked (16) on our connect', 'Idle', ['close out#1']],
  ['Idle', 'TcpConnectionConfirmed (17) new', 'Idle', ['close in#9']],
  ['Idle', 'TcpConnectionFails (18)', 'Idle', []],
  ['Idle', 'BGPOpen (19)', 'Idle', []],
  ['Idle', 'BGPOpen (19) wrong peer AS', 'Idle', []],
  ['Idle', 'BGPHeaderErr (21)', 'Idle', []],
  ['Idle', 'BGPOpenMsgErr (22)', 'Idle', []],
  ['Idle', 'NotifMsgVerErr (24)', 'Idle', []],
  ['Idle', 'NotifMsg (25)', 'Idle', []],
  ['Idle', 'KeepAliveMsg (26)', 'Idle', []],
  ['Idle', 'UpdateMsg (27)', 'Idle', []],
  ['Idle', 'UpdateMsgErr (28)', 'Idle', []],
  ['Idle', 'ROUTE-REFRESH', 'Idle', []],
  ['Idle', 'ROUTE-REFRESH error', 'Idle', []],
  ['Idle', 'BFD Down (RFC 9384)', 'Idle', []],
  ['Idle', 'BFD Up', 'Idle', []],
  // Connect: waiting for our TCP connect (out#1).
  ['Connect', 'ManualStart (1)', 'Connect', []],
  ['Connect', 'ManualStop (2)', 'Idle', ['close out#1']],
  ['Connect', 'AutomaticStart (3)', 'Connect', []],
  ['Connect', 'AutomaticStop (8)', 'Idle', ['close out#1']],
  ['Connect', 'ConnectRetryTimer_Expires (9)', 'Connect', ['close out#1', 'connect out#2']],
  ['Connect', 'HoldTimer_Expires (10)', 'Idle', ['close out#1']],
  ['Connect', 'KeepaliveTimer_Expires (11)', 'Idle', ['close out#1']],
  ['Connect', 'IdleHoldTimer_Expires (13)', 'Connect', []],
  ['Connect', 'Tcp_CR_Acked (16) on our connect', 'OpenSent', ['send open on out#1']],
  ['Connect', 'TcpConnectionConfirmed (17) new', 'OpenSent', ['close out#1', 'send open on in#9']],
  ['Connect', 'TcpConnectionFails (18)', 'Idle', ['close out#1']],
  ['Connect', 'BGPOpen (19)', 'Idle', ['close out#1']],
  ['Connect', 'BGPOpen (19) wrong peer AS', 'Idle', ['close out#1']],
  ['Connect', 'BGPHeaderErr (21)', 'Idle', ['close out#1']],
  ['Connect', 'BGPOpenMsgErr (22)', 'Idle', ['close out#1']],
  ['Connect', 'NotifMsgVerErr (24)', 'Idle', ['close out#1']],
  ['Connect', 'NotifMsg (25)', 'Idle', ['close out#1']],
  ['Connect', 'KeepAliveMsg (26)', 'Idle', ['close out#1']],
  ['Connect', 'UpdateMsg (27)', 'Idle', ['close out#1']],
  ['Connect', 'UpdateMsgErr (28)', 'Idle', ['close out#1']],
  ['Connect', 'ROUTE-REFRESH', 'Idle', ['close out#1']],
  ['Connect', 'ROUTE-REFRESH error', 'Idle', ['close out#1']],
  ['Connect', 'BFD Down (RFC 9384)', 'Idle', ['close out#1']],
  ['Connect', 'BFD Up', 'Connect', []],
  // Active (passive peer): listening, no connection of ours; events about unknown
  // connections are ignored.
  ['Active', 'ManualStart (1)', 'Active', []],
  ['Active', 'ManualStop (2)', 'Idle', []],
  ['Active', 'AutomaticStart (3)', 'Active', []],
  ['Active', 'AutomaticStop (8)', 'Idle', []],
  ['Active', 'ConnectRetryTimer_Expires (9)', 'Active', []],
  ['Active', 'HoldTimer_Expires (10)', 'Idle', []],
  ['Active', 'KeepaliveTimer_Expires (11)', 'Idle', []],
  ['Active', 'IdleHoldTimer_Expires (13)', 'Active', []],
  ['Active', 'Tcp_CR_Acked (16) on our connect', 'Active', ['close out#1']],
  ['Active', 'TcpConnectionConfirmed (17) new', 'OpenSent', ['send open on in#9']],
  ['Active', 'TcpConnectionFails (18)', 'Active', []],
  ['Active', 'BGPOpen (19)', 'Active', []],
  ['Active', 'BGPOpen (19) wrong peer AS', 'Active', []],
  ['Active', 'BGPHeaderErr (21)', 'Active', []],
  ['Active', 'BGPOpenMsgErr (22)', 'Active', []],
  ['Active', 'NotifMsgVerErr (24)', 'Active', []],
  ['Active', 'NotifMsg (25)', 'Active', []],
  ['Active', 'KeepAliveMsg (26)', 'Active', []],
  ['Active', 'UpdateMsg (27)', 'Active', []],
  ['Active', 'UpdateMsgErr (28)', 'Active', []],
  ['Active', 'ROUTE-REFRESH', 'Active', []],
  ['Active', 'ROUTE-REFRESH error', 'Active', []],
  ['Active', 'BFD Down (RFC 9384)', 'Idle', []],
  ['Active', 'BFD Up', 'Active', []],
  // OpenSent on out#1: waiting for the peer's OPEN.
  ['OpenSent', 'ManualStart (1)', 'OpenSent', []],
  ['OpenSent', 'ManualStop (2)', 'Idle', ['notify 6/2', 'close out#1']],
  ['OpenSent', 'AutomaticStart (3)', 'OpenSent', []],
  ['OpenSent', 'AutomaticStop (8)', 'Idle', ['notify 6/2', 'close out#1']],
  ['OpenSent', 'ConnectRetryTimer_Expires (9)', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'HoldTimer_Expires (10)', 'Idle', ['notify 4/0', 'close out#1']],
  ['OpenSent', 'KeepaliveTimer_Expires (11)', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'IdleHoldTimer_Expires (13)', 'OpenSent', []],
  ['OpenSent', 'Tcp_CR_Acked (16) on our connect', 'OpenSent', ['close out#1']],
  ['OpenSent', 'TcpConnectionConfirmed (17) new', 'OpenSent', ['send open on in#9']],
  ['OpenSent', 'TcpConnectionFails (18)', 'Active', ['close out#1']],
  ['OpenSent', 'BGPOpen (19)', 'OpenConfirm', ['send keepalive on out#1']],
  ['OpenSent', 'BGPOpen (19) wrong peer AS', 'Idle', ['notify 2/2', 'close out#1']],
  ['OpenSent', 'BGPHeaderErr (21)', 'Idle', ['notify 1/2', 'close out#1']],
  ['OpenSent', 'BGPOpenMsgErr (22)', 'Idle', ['notify 2/6', 'close out#1']],
  ['OpenSent', 'NotifMsgVerErr (24)', 'Idle', ['close out#1']],
  ['OpenSent', 'NotifMsg (25)', 'Idle', ['close out#1']],
  ['OpenSent', 'KeepAliveMsg (26)', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'UpdateMsg (27)', 'Idle', ['notify 5/1', 'close out#1']],
  // An UPDATE, malformed or not, is no message of OpenSent (§8.2.2 events 27-28); nor a ROUTE-REFRESH.
  ['OpenSent', 'UpdateMsgErr (28)', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'ROUTE-REFRESH', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'ROUTE-REFRESH error', 'Idle', ['notify 5/1', 'close out#1']],
  ['OpenSent', 'BFD Down (RFC 9384)', 'Idle', ['notify 6/10', 'close out#1']],
  ['OpenSent', 'BFD Up', 'OpenSent', []],
  // OpenConfirm: OPENs exchanged, waiting for the peer's KEEPALIVE.
  ['OpenConfirm', 'ManualStart (1)', 'OpenConfirm', []],
  ['OpenConfirm', 'ManualStop (2)', 'Idle', ['notify 6/2', 'close out#1']],
  ['OpenConfirm', 'AutomaticStart (3)', 'OpenConfirm', []],
  ['OpenConfirm', 'AutomaticStop (8)', 'Idle', ['notify 6/2', 'close out#1']],
  ['OpenConfirm', 'ConnectRetryTimer_Expires (9)', 'Idle', ['notify 5/2', 'close out#1']],
  ['OpenConfirm', 'HoldTimer_Expires (10)', 'Idle', ['notify 4/0', 'close out#1']],
  ['OpenConfirm', 'KeepaliveTimer_Expires (11)', 'OpenConfirm', ['send keepalive on out#1']],
  ['OpenConfirm', 'IdleHoldTimer_Expires (13)', 'OpenConfirm', []],
  ['OpenConfirm', 'Tcp_CR_Acked (16) on our connect', 'OpenConfirm', ['close out#1']],
  // Our id 192.0.2.10 > the peer's 192.0.2.1: our outgoing out#1 wins the collision (§6.8).
  [
    'OpenConfirm',
    'TcpConnectionConfirmed (17) new',
    'OpenConfirm',
    ['send open on in#9', 'notify 6/7', 'close in#9'],
  ],
  ['OpenConfirm', 'TcpConnectionFails (18)', 'Idle', ['close out#1']],
  ['OpenConfirm', 'BGPOpen (19)', 'Idle', ['notify 5/2', 'close out#1']],
  // A second OPEN failing §6.2 gets its error (event 22), a valid one the FSM error (RFC 6608).
  ['OpenConfirm', 'BGPOpen (19) wrong peer AS', 'Idle', ['notify 2/2', 'close out#1']],
  ['OpenConfirm', 'BGPHeaderErr (21)', 'Idle', ['notify 1/2', 'close out#1']],
  ['OpenConfirm', 'BGPOpenMsgErr (22)', 'Idle', ['notify 2/6', 'close out#1']],
  ['OpenConfirm', 'NotifMsgVerErr (24)', 'Idle', ['close out#1']],
  ['OpenConfirm', 'NotifMsg (25)', 'Idle', ['close out#1']],
  ['OpenConfirm', 'KeepAliveMsg (26)', 'Established', ['established']],
  ['OpenConfirm', 'UpdateMsg (27)', 'Idle', ['notify 5/2', 'close out#1']],
  ['OpenConfirm', 'UpdateMsgErr (28)', 'Idle', ['notify 5/2', 'close out#1']],
  ['OpenConfirm', 'ROUTE-REFRESH', 'Idle', ['notify 5/2', 'close out#1']],
  ['OpenConfirm', 'ROUTE-REFRESH error', 'Idle', ['notify 5/2', 'close out#1']],
  ['OpenConfirm', 'BFD Down (RFC 9384)', 'Idle', ['notify 6/10', 'close out#1']],
  ['OpenConfirm', 'BFD Up', 'OpenConfirm', []],
  // Established.
  ['Established', 'ManualStart (1)', 'Established', []],
  ['Established', 'ManualStop (2)', 'Idle', ['notify 6/2', 'close out#1', 'down']],
  ['Established', 'AutomaticStart (3)', 'Established', []],
  ['Established', 'AutomaticStop (8)', 'Idle', ['notify 6/2', 'close out#1', 'down']],
  ['Established', 'ConnectRetryTimer_Expires (9)', 'Idle', ['notify 5/3', 'close out#1', 'down']],
  ['Established', 'HoldTimer_Expires (10)', 'Idle', ['notify 4/0', 'close out#1', 'down']],
  ['Established', 'KeepaliveTimer_Expires (11)', 'Established', ['send keepalive on out#1']],
  ['Established', 'IdleHoldTimer_Expires (13)', 'Established', []],
  ['Established', 'Tcp_CR_Acked (16) on our connect', 'Established', ['close out#1']],
  ['Established', 'TcpConnectionConfirmed (17) new', 'Established', ['close in#9']],
  ['Established', 'TcpConnectionFails (18)', 'Idle', ['close out#1', 'down']],
  ['Established', 'BGPOpen (19)', 'Idle', ['notify 5/3', 'close out#1', 'down']],
  ['Established', 'BGPOpen (19) wrong peer AS', 'Idle', ['notify 5/3', 'close out#1', 'down']],
  ['Established', 'BGPHeaderErr (21)', 'Idle', ['notify 1/2', 'close out#1', 'down']],
  // Any OPEN, in error or not, is unexpected in Established (§8.2.2 events 19-22).
  ['Established', 'BGPOpenMsgErr (22)', 'Idle', ['notify 5/3', 'close out#1', 'down']],
  ['Established', 'NotifMsgVerErr (24)', 'Idle', ['close out#1', 'down']],
  ['Established', 'NotifMsg (25)', 'Idle', ['close out#1', 'down']],
  ['Established', 'KeepAliveMsg (26)', 'Established', []],
  ['Established', 'UpdateMsg (27)', 'Established', ['update']],
  ['Established', 'UpdateMsgErr (28)', 'Idle', ['notify 3/1', 'close out#1', 'down']],
  ['Established', 'ROUTE-REFRESH', 'Established', ['routeRefresh']],
  ['Established', 'ROUTE-REFRESH error', 'Idle', ['notify 7/1', 'close out#1', 'down']],
  ['Established', 'BFD Down (RFC 9384)', 'Idle', ['notify 6/10', 'close out#1', 'down']],
  ['Established', 'BFD Up', 'Established', []],
];

describe('RFC 4271 §8.2.2 transition table', () => {
  it('covers every (state, event) pair', () => {
    for (const name of Object.keys(STATES)) {
      for (const event of Object.keys(EVENTS)) {
        assert.ok(
          TABLE.some(([s, e]) => s === name && e === event),
          `row for ${name} × ${event}`,
        );
      }
    }
  });
  for (const [from, eventName, to, effects] of TABLE) {
    it(`${from} × ${eventName} → ${to}`, () => {
      const before = STATES[from];
      assert.equal(before.name, from);
      const { state, actions } = step(before, EVENTS[eventName]!, 5000);
      assert.equal(state.name, to);
      const described = actions.map(describe_).filter((d) => d !== undefined);
      assert.deepStrictEqual(described, effects);
      if (to === 'Idle' && from !== 'Idle') {
        // Leaving for Idle stops every timer; restart (not after a manual stop) uses IdleHold.
        for (const t of ['connectRetry', 'hold', 'keepalive']) {
          assert.ok(actions.some((a) => a.type === 'stopTimer' && a.timer === t));
        }
        const restarts = actions.some((a) => a.type === 'startTimer' && a.timer === 'idleHold');
        assert.equal(restarts, eventName !== 'ManualStop (2)');
      }
    });
  }
});

describe('BFD drives the session (RFC 5882 §4.3, RFC 9384)', () => {
  const down = step(established, { type: 'BfdDown' }, 0);

  it('BFD Down: Cease / BFD Down at once, a failure for the backoff, held Idle while BFD is down', () => {
    assert.equal(down.state.name, 'Idle');
    assert.equal(down.state.bfdHeld, true);
    assert.equal(down.state.connectRetryCounter, 1);
    const notify = down.actions.find((a) => a.type === 'send');
    assert.ok(notify?.type === 'send' && notify.message.type === 'notification');
    assert.deepEqual([notify.message.code, notify.message.subcode], [6, 10]);
    assert.ok(down.actions.some((a) => a.type === 'down' && a.reason === 'BFD down'));
    // The backoff runs out while BFD is still down: nothing starts, connections are refused.
    const expired = step(down.state, { type: 'IdleHoldTimerExpires' }, 1000);
    assert.equal(expired.state.name, 'Idle');
    assert.equal(expired.state.startWhenBfdUp, true);
    assert.deepEqual(expired.actions, []);
    const offered = step(expired.state, { type: 'TcpConnectionConfirmed', conn: 'in#1' }, 1100);
    assert.deepEqual(offered.actions, [{ type: 'close', conn: 'in#1' }]);
    // BFD Up: start at once.
    const up = step(offered.state, { type: 'BfdUp' }, 1200);
    assert.equal(up.state.name, 'Connect');
    assert.equal(up.state.bfdHeld, false);
    assert.ok(up.actions.some((a) => a.type === 'connect'));
  });

  it('BFD Up before the backoff ran out: the backoff still applies', () => {
    const up = step(down.state, { type: 'BfdUp' }, 100);
    assert.equal(up.state.name, 'Idle');
    assert.deepEqual(up.actions, []);
    const expired = step(up.state, { type: 'IdleHoldTimerExpires' }, 1000);
    assert.equal(expired.state.name, 'Connect');
  });

  it('a session stopped while held does not start when BFD comes back', () => {
    const held = step(down.state, { type: 'IdleHoldTimerExpires' }, 1000).state;
    const stopped = step(held, { type: 'ManualStop' }, 1100).state;
    const up = step(stopped, { type: 'BfdUp' }, 1200);
    assert.equal(up.state.name, 'Idle');
    assert.deepEqual(up.actions, []);
  });

  it('a peer whose BFD never went down is not held: BFD Up changes nothing', () => {
    for (const st of Object.values(STATES)) {
      const r = step(st, { type: 'BfdUp' }, 0);
      assert.equal(r.state.name, st.name);
      assert.deepEqual(r.actions, []);
    }
  });
});

function timers(actions: readonly FsmAction[]): Record<string, number | 'stop'> {
  const out: Record<string, number | 'stop'> = {};
  for (const a of actions) {
    if (a.type === 'startTimer') out[a.timer] = a.ms;
    if (a.type === 'stopTimer') out[a.timer] = 'stop';
  }
  return out;
}

describe('timers and negotiation', () => {
  it('waits for OPEN with a 4-minute hold timer, then uses the negotiated minimum', () => {
    assert.equal(timers(step(connect, { type: 'TcpCRAcked', conn: 'out#1' }, 0).actions).hold, 240_000);
    const r = step(openSent, msg(PEER_OPEN), 0);
    // min(90, 30) = 30 s; keepalive a third: 10 s.
    assert.deepStrictEqual(timers(r.actions), { keepalive: 10_000, hold: 30_000 });
    const n = r.state.negotiated!;
    assert.equal(n.holdTimeSec, 30);
    assert.deepStrictEqual(n.context, { fourOctetAs: true, extendedMessage: false, externalPeer: true });
    assert.equal(n.peerRouteRefresh, true);
    // Each KEEPALIVE and UPDATE restarts the hold timer in Established.
    assert.equal(timers(step(established, msg({ type: 'keepalive' }), 0).actions).hold, 30_000);
  });

  it('hold time 0 runs no hold or keepalive timer when we propose 0 too', () => {
    const zero = run(initialState({ ...CONFIG, holdTimeSec: 0 }), [
      { type: 'ManualStart' },
      { type: 'TcpCRAcked', conn: 'out#1' },
    ]);
    const r = step(zero, msg({ ...PEER_OPEN, holdTimeSec: 0 }), 0);
    assert.equal(r.state.name, 'OpenConfirm');
    assert.deepStrictEqual(timers(r.actions), { hold: 'stop', keepalive: 'stop' });
  });

  it('hold time 0 from the peer while we propose one gets NOTIFICATION 2/6 (a dead peer must expire)', () => {
    const r = step(openSent, msg({ ...PEER_OPEN, holdTimeSec: 0 }), 0);
    assert.equal(r.state.name, 'Idle');
    assert.ok(
      r.actions.some(
        (a) =>
          a.type === 'send' &&
          a.message.type === 'notification' &&
          a.message.code === 2 &&
          a.message.subcode === 6,
      ),
    );
  });
  it('a peer hold time of 1 or 2 s gets NOTIFICATION 2/6', () => {
    for (const holdTimeSec of [1, 2]) {
      const r = step(openSent, msg({ ...PEER_OPEN, holdTimeSec }), 0);
      assert.equal(r.state.name, 'Idle');
      assert.ok(
        r.actions.some(
          (a) => a.type === 'send' && a.message.type === 'notification' && a.message.subcode === 6,
        ),
      );
    }
  });

  it('hold timer expiry sends 4/0 and comes back after the idle hold backoff', () => {
    const r = step(established, { type: 'HoldTimerExpires' }, 0);
    assert.equal(r.state.name, 'Idle');
    const idleHold = timers(r.actions).idleHold;
    assert.ok(typeof idleHold === 'number' && idleHold >= 750 && idleHold <= 1000, String(idleHold));
    const again = step(r.state, { type: 'IdleHoldTimerExpires' }, idleHold);
    assert.equal(again.state.name, 'Connect');
    assert.ok(again.actions.some((a) => a.type === 'connect'));
  });

  it('validates configuration with field names', () => {
    assert.deepStrictEqual(validateFsmConfig(CONFIG), []);
    const problems = validateFsmConfig({ ...CONFIG, holdTimeSec: 2, routerId: '0.0.0.0', peerAs: 0 });
    assert.equal(problems.length, 3);
    assert.match(problems.join('\n'), /holdTime 2 s/);
    assert.match(problems.join('\n'), /routerId/);
    assert.match(problems.join('\n'), /peerAs 0/);
  });
});

describe('backoff', () => {
  it('doubles per failure, stays within 75–100 % jitter and the cap', () => {
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, r) => {
          const ms = backoffMs(CONFIG, attempts, r);
          const raw = Math.min(CONFIG.connectRetryMaxMs, CONFIG.connectRetryMs * 2 ** attempts);
          assert.ok(ms >= Math.floor(raw * 0.75) && ms <= raw);
        },
      ),
    );
  });

  it('a peer that keeps rejecting us is retried at a growing, capped interval', () => {
    // The peer answers every OPEN with Bad Peer AS: count attempts over simulated time.
    let st = run(idle, [{ type: 'ManualStart' }]);
    let now = 0;
    let attempts = 1;
    const delays: number[] = [];
    while (now < 10 * 60_000) {
      const conn = st.connecting!;
      st = step(st, { type: 'TcpCRAcked', conn }, now).state;
      const r = step(
        st,
        {
          type: 'Message',
          conn,
          message: { type: 'notification', code: 2, subcode: 2, data: new Uint8Array(0) },
        },
        now,
      );
      st = r.state;
      const delay = timers(r.actions).idleHold as number;
      delays.push(delay);
      now += delay;
      st = step(st, { type: 'IdleHoldTimerExpires' }, now).state;
      attempts++;
    }
    // 1, 2, 4, ... 32 s then 60 s (jittered): about 14 attempts in 10 minutes, not thousands.
    assert.ok(attempts < 20, `attempts ${attempts}`);
    assert.ok(delays.every((d) => d <= CONFIG.connectRetryMaxMs));
    assert.ok(delays.at(-1)! >= 0.75 * CONFIG.connectRetryMaxMs);
    for (let i = 1; i < 5; i++) assert.ok(delays[i]! > delays[i - 1]!, `delays grow: ${delays.slice(0, 6)}`);
  });

  it('jitter is deterministic for a seed and differs between seeds', () => {
    const d = (seed: number) =>
      timers(step(initialState({ ...CONFIG, jitterSeed: seed }), { type: 'ManualStart' }, 0).actions)
        .connectRetry;
    assert.equal(d(7), d(7));
    assert.notEqual(d(7), d(8));
  });
});

describe('connection collision (RFC 4271 §6.8)', () => {
  it('in OpenSent, the connection started by the higher identifier survives', () => {
    // We are 192.0.2.10. Peer 192.0.2.1 (lower): our outgoing out#1 wins over its in#9.
    let r = step(openSent, { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 0);
    r = step(r.state, { type: 'Message', conn: 'in#9', message: PEER_OPEN }, 0);
    assert.equal(r.state.main!.id, 'out#1');
    assert.equal(r.state.second, undefined);
    assert.deepStrictEqual(r.actions.map(describe_).filter(Boolean), ['notify 6/7', 'close in#9']);
    // Peer 192.0.2.200 (higher): its connection in#9 wins; ours is dumped.
    const high = { ...PEER_OPEN, bgpId: '192.0.2.200' };
    r = step(openSent, { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 0);
    r = step(r.state, { type: 'Message', conn: 'in#9', message: high }, 0);
    assert.equal(r.state.name, 'OpenConfirm');
    assert.equal(r.state.main!.id, 'in#9');
    assert.deepStrictEqual(r.actions.map(describe_).filter(Boolean), [
      'notify 6/7',
      'close out#1',
      'send keepalive on in#9',
    ]);
  });

  it('with identifiers equal (eBGP, RFC 6286 §2.3), the side with the larger AS keeps its connection', () => {
    const same = { ...PEER_OPEN, bgpId: CONFIG.routerId };
    // Our AS 65001 > the peer's 65000: our outgoing out#1 survives.
    let r = step(run(openSent, [msg(same)]), { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 0);
    assert.deepStrictEqual(r.actions.map(describe_).filter(Boolean), [
      'send open on in#9',
      'notify 6/7',
      'close in#9',
    ]);
    // Our AS smaller: the peer's connection in#9 survives once its OPEN comes.
    const smaller = { ...CONFIG, localAs: 64999 };
    const sent = run(initialState(smaller), [
      { type: 'ManualStart' },
      { type: 'TcpCRAcked', conn: 'out#1' },
      msg(same),
    ]);
    r = step(sent, { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 0);
    assert.equal(r.state.second?.id, 'in#9');
    r = step(r.state, { type: 'Message', conn: 'in#9', message: same }, 0);
    assert.equal(r.state.main?.id, 'in#9');
  });

  it('in OpenConfirm with a higher peer identifier the new incoming connection is kept open', () => {
    const high = { ...PEER_OPEN, bgpId: '192.0.2.200' };
    const confirm = run(openSent, [msg(high)]);
    const r = step(confirm, { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 0);
    assert.equal(r.state.second?.id, 'in#9');
    const r2 = step(r.state, { type: 'Message', conn: 'in#9', message: high }, 0);
    assert.equal(r2.state.main!.id, 'in#9');
    assert.equal(r2.state.name, 'OpenConfirm');
  });
});

describe('graceful restart: a restarted peer replaces its Established session (RFC 4724 §5)', () => {
  const withGr = (families: { afi: number; safi: number; forwardingState: boolean }[]): OpenMessage => ({
    ...PEER_OPEN,
    capabilities: [
      ...PEER_OPEN.capabilities,
      { kind: 'graceful-restart', restartState: false, notification: false, restartTimeSec: 120, families },
    ],
  });
  const establishedWith = (open: OpenMessage) =>
    run(openSent, [msg(open), { type: 'Message', conn: 'out#1', message: { type: 'keepalive' } }]);

  it('drops the old connection without NOTIFICATION and runs the session on the new one', () => {
    const before = establishedWith(withGr([{ afi: 1, safi: 1, forwardingState: true }]));
    assert.equal(before.name, 'Established');
    const r = step(before, { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 5000);
    assert.equal(r.state.name, 'OpenSent');
    assert.deepStrictEqual(r.actions.map(describe_).filter(Boolean), [
      'close out#1',
      'down',
      'send open on in#9',
    ]);
    assert.equal(r.state.main?.id, 'in#9');
    assert.equal(r.state.connectRetryCounter, 0);
    assert.equal(timers(r.actions).hold, 240_000, 'waits for the OPEN on the new connection');
    const again = run(r.state, [
      { type: 'Message', conn: 'in#9', message: PEER_OPEN },
      { type: 'Message', conn: 'in#9', message: { type: 'keepalive' } },
    ]);
    assert.equal(again.name, 'Established');
    assert.equal(again.main?.id, 'in#9');
    const stale = step(again, { type: 'TcpConnectionFails', conn: 'out#1' }, 6000);
    assert.equal(stale.state.name, 'Established', 'the old connection closing changes nothing');
  });

  it('without the capability, or with it but no family, the new connection is closed (§6.8)', () => {
    for (const open of [PEER_OPEN, withGr([])]) {
      const r = step(establishedWith(open), { type: 'TcpConnectionConfirmed', conn: 'in#9' }, 5000);
      assert.equal(r.state.name, 'Established');
      assert.deepStrictEqual(r.actions.map(describe_).filter(Boolean), ['close in#9']);
    }
  });
});
