import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ControlPacket, Diag, type SessionStateName } from '../codec/index.ts';
import { nextState, startSession, step } from './fsm.ts';
import { LinkSimulation } from './test-helpers.ts';
import type { BfdAction, BfdEvent, BfdSessionConfig, BfdState } from './types.ts';

const A: BfdSessionConfig = {
  desiredMinTxUs: 300_000,
  requiredMinRxUs: 300_000,
  detectMult: 3,
  passive: false,
  localDiscriminator: 0x11,
  jitterSeed: 1,
};
const PEER_DISCR = 0x22;

/** A packet from the peer, as it would look in `state`, with overrides. */
function peer(state: SessionStateName, extra: Partial<ControlPacket> = {}): ControlPacket {
  return {
    diag: 0,
    state,
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: PEER_DISCR,
    yourDiscriminator: state === 'Down' || state === 'AdminDown' ? 0 : A.localDiscriminator,
    desiredMinTxUs: 300_000,
    requiredMinRxUs: 300_000,
    requiredMinEchoRxUs: 0,
    ...extra,
  };
}

const received = (packet: ControlPacket): BfdEvent => ({ type: 'PacketReceived', packet });

function run(state: BfdState, events: [BfdEvent, number][]): BfdState {
  let s = state;
  for (const [e, at] of events) s = step(s, e, at).state;
  return s;
}

const of = <T extends BfdAction['type']>(actions: readonly BfdAction[], type: T) =>
  actions.filter((a): a is Extract<BfdAction, { type: T }> => a.type === type);

const down = startSession(A, 0).state;
const init = run(down, [[received(peer('Down')), 10]]);
const up = run(init, [[received(peer('Up')), 20]]);
const adminDown = run(down, [[{ type: 'AdminDown' }, 10]]);
const STATES: Record<SessionStateName, BfdState> = { AdminDown: adminDown, Down: down, Init: init, Up: up };

describe('BFD session start (RFC 5880 §6.8.1, §6.8.3, §6.1)', () => {
  it('the active role sends a Down packet at once, slow (1 s) while not Up, and arms the TX timer', () => {
    const { state, actions } = startSession(A, 0);
    assert.equal(state.sessionState, 'Down');
    const [send, timer] = actions;
    assert.deepEqual(send, {
      type: 'sendPacket',
      packet: {
        diag: 0,
        state: 'Down',
        poll: false,
        final: false,
        controlPlaneIndependent: false,
        demand: false,
        detectMult: 3,
        myDiscriminator: 0x11,
        yourDiscriminator: 0,
        desiredMinTxUs: 1_000_000,
        requiredMinRxUs: 300_000,
        requiredMinEchoRxUs: 0,
      },
    });
    assert.equal(timer?.type, 'startTxTimer');
    assert.ok(timer?.type === 'startTxTimer' && timer.ms >= 750 && timer.ms <= 1000, JSON.stringify(timer));
  });

  it('the passive role sends nothing and arms nothing until the peer speaks', () => {
    const { state, actions } = startSession({ ...A, passive: true }, 0);
    assert.deepEqual(actions, []);
    const after = step(state, received(peer('Down')), 5);
    assert.equal(after.state.sessionState, 'Init');
    const sent = of(after.actions, 'sendPacket');
    assert.equal(sent.length, 1, 'the first packet goes out as soon as the discriminator is known');
    assert.equal(sent[0]?.packet.yourDiscriminator, PEER_DISCR);
    assert.equal(sent[0]?.packet.state, 'Init');
  });
});

describe('BFD state transitions (RFC 5880 §6.8.6 table)', () => {
  // [our state, peer's state] -> [our next state, our diag]
  const TABLE: [SessionStateName, SessionStateName, SessionStateName, number][] = [
    ['AdminDown', 'AdminDown', 'AdminDown', Diag.AdministrativelyDown],
    ['AdminDown', 'Down', 'AdminDown', Diag.AdministrativelyDown],
    ['AdminDown', 'Init', 'AdminDown', Diag.AdministrativelyDown],
    ['AdminDown', 'Up', 'AdminDown', Diag.AdministrativelyDown],
    ['Down', 'AdminDown', 'Down', Diag.NoDiagnostic],
    ['Down', 'Down', 'Init', Diag.NoDiagnostic],
    ['Down', 'Init', 'Up', Diag.NoDiagnostic],
    ['Down', 'Up', 'Down', Diag.NoDiagnostic],
    ['Init', 'AdminDown', 'Down', Diag.NeighborSignaledSessionDown],
    ['Init', 'Down', 'Init', Diag.NoDiagnostic],
    ['Init', 'Init', 'Up', Diag.NoDiagnostic],
    ['Init', 'Up', 'Up', Diag.NoDiagnostic],
    ['Up', 'AdminDown', 'Down', Diag.NeighborSignaledSessionDown],
    ['Up', 'Down', 'Down', Diag.NeighborSignaledSessionDown],
    ['Up', 'Init', 'Up', Diag.NoDiagnostic],
    ['Up', 'Up', 'Up', Diag.NoDiagnostic],
  ];
  for (const [local, remote, next, diag] of TABLE) {
    it(`${local} + received ${remote} -> ${next}, diag ${diag}`, () => {
      const { state, actions } = step(STATES[local], received(peer(remote)), 100);
      assert.equal(state.sessionState, next);
      assert.equal(state.localDiag, diag);
      assert.equal(nextState(local, remote), next);
      const changes = of(actions, 'stateChanged');
      assert.deepEqual(
        changes,
        next === local ? [] : [{ type: 'stateChanged', from: local, to: next, diag, remoteState: remote }],
      );
      // Every packet sent after the change carries the new state.
      for (const s of of(actions, 'sendPacket')) assert.equal(s.packet.state, next);
    });
  }

  it('records the peer variables of §6.8.6 even in AdminDown, but the packet counts for nothing else', () => {
    const { state, actions } = step(adminDown, received(peer('Up', { requiredMinRxUs: 500_000 })), 100);
    assert.equal(state.remoteDiscriminator, PEER_DISCR);
    assert.equal(state.remoteMinRxUs, 500_000);
    assert.equal(state.lastRxMs, undefined);
    assert.deepEqual(of(actions, 'startDetectTimer'), []);
  });
});

describe('BFD administrative control (RFC 5880 §6.8.16)', () => {
  it('AdminDown keeps sending AdminDown packets with diag Administratively Down; AdminUp returns to Down', () => {
    const r = step(up, { type: 'AdminDown' }, 1000);
    assert.equal(r.state.sessionState, 'AdminDown');
    assert.deepEqual(of(r.actions, 'stateChanged')[0], {
      type: 'stateChanged',
      from: 'Up',
      to: 'AdminDown',
      diag: Diag.AdministrativelyDown,
      remoteState: 'Up',
    });
    const tick = step(r.state, { type: 'TxTimerExpired' }, 2000);
    const sent = of(tick.actions, 'sendPacket')[0]?.packet;
    assert.equal(sent?.state, 'AdminDown');
    assert.equal(sent?.diag, Diag.AdministrativelyDown);
    assert.equal(sent?.desiredMinTxUs, 1_000_000, 'not Up: slow again');
    const back = step(tick.state, { type: 'AdminUp' }, 2100);
    assert.equal(back.state.sessionState, 'Down');
    assert.equal(of(back.actions, 'stateChanged')[0]?.to, 'Down');
  });

  it('takes the diag given (Path Down) and ignores repeated commands', () => {
    const r = step(init, { type: 'AdminDown', diag: Diag.PathDown }, 50);
    assert.equal(r.state.localDiag, Diag.PathDown);
    assert.deepEqual(step(r.state, { type: 'AdminDown' }, 60).actions, []);
    assert.deepEqual(of(step(up, { type: 'AdminUp' }, 60).actions, 'stateChanged'), []);
  });

  it('a peer going AdminDown takes us Down with Neighbor Signaled Session Down and says so', () => {
    const r = step(up, received(peer('AdminDown', { diag: Diag.AdministrativelyDown })), 500);
    assert.deepEqual(of(r.actions, 'stateChanged'), [
      { type: 'stateChanged', from: 'Up', to: 'Down', diag: 3, remoteState: 'AdminDown' },
    ]);
    assert.equal(r.state.remoteDiag, Diag.AdministrativelyDown);
  });
});

describe('BFD Detection Time (RFC 5880 §6.8.4)', () => {
  it('is the peer Detect Mult times the slower of our Required Min RX and its Desired Min TX', () => {
    const slowPeer = step(init, received(peer('Up', { detectMult: 5, desiredMinTxUs: 400_000 })), 100);
    assert.deepEqual(of(slowPeer.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 2000 }]);
    const fastPeer = step(init, received(peer('Up', { detectMult: 5, desiredMinTxUs: 200_000 })), 100);
    assert.deepEqual(of(fastPeer.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 1500 }]);
  });

  it('expires after that much silence: Up -> Down, diag Control Detection Time Expired, peer forgotten', () => {
    const steady = run(up, [[received(peer('Up')), 100]]); // detection deadline 100 + 900
    const early = step(steady, { type: 'DetectTimerExpired' }, 999);
    assert.equal(early.state.sessionState, 'Up', 'a timer that fires early changes nothing');
    assert.deepEqual(of(early.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 1 }]);
    const r = step(steady, { type: 'DetectTimerExpired' }, 1000);
    assert.equal(r.state.sessionState, 'Down');
    assert.equal(r.state.localDiag, Diag.ControlDetectionTimeExpired);
    assert.equal(r.state.remoteDiscriminator, 0);
    assert.equal(r.state.remoteMinRxUs, 1);
    assert.deepEqual(of(r.actions, 'stateChanged')[0], {
      type: 'stateChanged',
      from: 'Up',
      to: 'Down',
      diag: 1,
      remoteState: 'Down',
    });
    const next = step(r.state, { type: 'TxTimerExpired' }, 1300);
    const sent = of(next.actions, 'sendPacket')[0]?.packet;
    assert.equal(sent?.yourDiscriminator, 0);
    assert.equal(sent?.diag, Diag.ControlDetectionTimeExpired);
    assert.equal(sent?.desiredMinTxUs, 1_000_000);
  });

  it('a packet after the timer was queued wins: the late expiry re-arms for the rest', () => {
    const s = run(up, [
      [received(peer('Up')), 100],
      [received(peer('Up')), 600],
    ]);
    const r = step(s, { type: 'DetectTimerExpired' }, 1000);
    assert.equal(r.state.sessionState, 'Up');
    assert.deepEqual(of(r.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 500 }]);
  });

  it('in Down only forgets the peer; a passive session then falls silent again', () => {
    const passive = startSession({ ...A, passive: true }, 0).state;
    const heard = step(passive, received(peer('AdminDown')), 10).state;
    assert.equal(heard.sessionState, 'Down');
    assert.notEqual(heard.nextTxMs, undefined, 'it answers once it knows the discriminator');
    const r = step(heard, { type: 'DetectTimerExpired' }, 10 + 3000);
    assert.deepEqual(of(r.actions, 'stateChanged'), []);
    assert.deepEqual(of(r.actions, 'stopTxTimer'), [{ type: 'stopTxTimer' }]);
    assert.equal(r.state.remoteDiscriminator, 0);
  });
});

describe('BFD transmit interval (RFC 5880 §6.8.2, §6.8.3, §6.8.7)', () => {
  /** The next periodic TX timer after a tick, relative to the packet it follows. */
  function nextGap(s: BfdState, at: number): number {
    const r = step(s, { type: 'TxTimerExpired' }, at);
    assert.equal(of(r.actions, 'sendPacket').length, 1);
    const timer = of(r.actions, 'startTxTimer')[0];
    assert.ok(timer);
    return timer.ms;
  }

  it('is the slower of our Desired Min TX and the peer Required Min RX, jittered to 75-100 %', () => {
    const slowRx = run(up, [[received(peer('Up', { final: true, requiredMinRxUs: 500_000 })), 30]]);
    const gap = nextGap(slowRx, 40);
    assert.ok(gap >= 375 && gap <= 500, `${gap}`);
    const fastRx = run(up, [[received(peer('Up', { final: true, requiredMinRxUs: 100_000 })), 30]]);
    const gap2 = nextGap(fastRx, 40);
    assert.ok(gap2 >= 225 && gap2 <= 300, `${gap2}`);
  });

  it('sends at least 1 s apart while not Up, even when configured faster', () => {
    const fast = { ...A, desiredMinTxUs: 50_000 };
    const s = startSession(fast, 0).state;
    assert.equal(s.advertisedTxUs, 1_000_000);
    const gap = nextGap(step(s, received(peer('Down', { requiredMinRxUs: 10_000 })), 5).state, 900);
    assert.ok(gap >= 750 && gap <= 1000, `${gap}`);
  });

  it('honours a shorter interval from the peer at once, not after the armed timer', () => {
    const slow = run(up, [[received(peer('Up', { final: true, requiredMinRxUs: 2_000_000 })), 30]]);
    const armed = step(slow, { type: 'TxTimerExpired' }, 100).state; // next packet 1.5-2 s away
    const r = step(armed, received(peer('Up', { requiredMinRxUs: 100_000 })), 150);
    const timer = of(r.actions, 'startTxTimer')[0];
    // Now max(our 300 ms, its 100 ms): due within 300 ms of the last packet, not 1.5-2 s.
    assert.ok(timer && 150 + timer.ms >= 100 + 225 && 150 + timer.ms <= 100 + 300, JSON.stringify(r.actions));
  });

  it('stops periodic packets when the peer asks for none (Required Min RX 0) or runs Demand mode', () => {
    const none = step(up, received(peer('Up', { final: true, requiredMinRxUs: 0 })), 30);
    assert.deepEqual(of(none.actions, 'stopTxTimer'), [{ type: 'stopTxTimer' }]);
    assert.deepEqual(of(step(none.state, { type: 'TxTimerExpired' }, 500).actions, 'sendPacket'), []);
    const demand = step(up, received(peer('Up', { final: true, demand: true })), 30);
    assert.deepEqual(of(demand.actions, 'stopTxTimer'), [{ type: 'stopTxTimer' }]);
    const resumed = step(demand.state, received(peer('Up', { demand: false })), 400);
    assert.equal(of(resumed.actions, 'sendPacket').length, 1, 'periodic packets resume');
  });
});

describe('BFD Poll Sequence (RFC 5880 §6.5, §6.8.3)', () => {
  it('going Up starts a Poll with the configured faster TX, in force at once (faster is safe)', () => {
    const r = step(init, received(peer('Up')), 20);
    assert.equal(r.state.polling, true);
    assert.equal(r.state.advertisedTxUs, 300_000);
    assert.equal(r.state.txInUseUs, 300_000);
    const tick = step(r.state, { type: 'TxTimerExpired' }, 400);
    assert.equal(of(tick.actions, 'sendPacket')[0]?.packet.poll, true);
    const done = step(tick.state, received(peer('Up', { final: true })), 410);
    assert.equal(done.state.polling, false);
    assert.equal(
      of(step(done.state, { type: 'TxTimerExpired' }, 700).actions, 'sendPacket')[0]?.packet.poll,
      false,
    );
  });

  const steady = run(up, [[received(peer('Up', { final: true })), 30]]);

  it('a slower TX is advertised with P at once but used only after the Final', () => {
    const r = step(steady, { type: 'Reconfigure', timers: { ...A, desiredMinTxUs: 1_000_000 } }, 100);
    assert.equal(r.state.advertisedTxUs, 1_000_000);
    assert.equal(r.state.txInUseUs, 300_000);
    const tick = step(r.state, { type: 'TxTimerExpired' }, 300);
    const sent = of(tick.actions, 'sendPacket')[0]?.packet;
    assert.equal(sent?.poll, true);
    assert.equal(sent?.desiredMinTxUs, 1_000_000);
    const gap = of(tick.actions, 'startTxTimer')[0]?.ms ?? 0;
    assert.ok(gap >= 225 && gap <= 300, `still the old interval before the Final: ${gap}`);
    const final = step(tick.state, received(peer('Up', { final: true })), 310);
    assert.equal(final.state.txInUseUs, 1_000_000);
    const after = step(final.state, { type: 'TxTimerExpired' }, 550);
    const gap2 = of(after.actions, 'startTxTimer')[0]?.ms ?? 0;
    assert.ok(gap2 >= 750 && gap2 <= 1000, `the new interval after the Final: ${gap2}`);
    assert.equal(of(after.actions, 'sendPacket')[0]?.packet.poll, false);
  });

  it('a faster RX is advertised at once, the Detection Time shrinks only after the Final', () => {
    const r = step(steady, { type: 'Reconfigure', timers: { ...A, requiredMinRxUs: 100_000 } }, 100);
    assert.equal(r.state.advertisedRxUs, 100_000);
    const beforeFinal = step(r.state, received(peer('Up', { desiredMinTxUs: 100_000 })), 200);
    assert.deepEqual(of(beforeFinal.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 900 }]);
    const afterFinal = step(
      beforeFinal.state,
      received(peer('Up', { desiredMinTxUs: 100_000, final: true })),
      250,
    );
    assert.deepEqual(of(afterFinal.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 300 }]);
  });

  it('a slower RX stretches the running detection timer at once', () => {
    const heard = run(steady, [[received(peer('Up')), 100]]); // deadline 1000
    const r = step(heard, { type: 'Reconfigure', timers: { ...A, requiredMinRxUs: 1_000_000 } }, 200);
    assert.deepEqual(of(r.actions, 'startDetectTimer'), [{ type: 'startDetectTimer', ms: 2900 }]);
  });

  it('a change during a Poll Sequence waits for its Final, then starts its own', () => {
    const first = step(steady, { type: 'Reconfigure', timers: { ...A, desiredMinTxUs: 500_000 } }, 100).state;
    const second = step(first, { type: 'Reconfigure', timers: { ...A, desiredMinTxUs: 700_000 } }, 120).state;
    assert.equal(second.advertisedTxUs, 500_000, 'the running Poll keeps its values');
    const final = step(second, received(peer('Up', { final: true })), 200).state;
    assert.equal(final.txInUseUs, 500_000);
    assert.equal(final.advertisedTxUs, 700_000);
    assert.equal(final.polling, true);
  });

  it('a reconfiguration changes the timers and role, never the discriminator', () => {
    const r = step(steady, { type: 'Reconfigure', timers: { ...A, localDiscriminator: 99 } as never }, 100);
    assert.equal(r.state.config.localDiscriminator, A.localDiscriminator);
  });

  it('a Final without our Poll changes nothing; dropping to Down ends the Poll', () => {
    assert.equal(step(steady, received(peer('Up', { final: true })), 50).state.polling, false);
    const polling = step(steady, { type: 'Reconfigure', timers: { ...A, desiredMinTxUs: 500_000 } }, 100);
    const dropped = step(polling.state, received(peer('Down')), 150).state;
    assert.equal(dropped.polling, false);
    assert.equal(dropped.advertisedTxUs, 1_000_000);
  });

  it('answers a Poll at once with F set and P clear, even while polling itself', () => {
    const polling = step(
      steady,
      { type: 'Reconfigure', timers: { ...A, desiredMinTxUs: 500_000 } },
      100,
    ).state;
    const r = step(polling, received(peer('Up', { poll: true })), 150);
    const sent = of(r.actions, 'sendPacket').map((a) => a.packet);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.final, true);
    assert.equal(sent[0]?.poll, false);
  });

  it('limits Finals to one per advertised TX interval; a Poll inside it gets F on the next periodic packet', () => {
    const first = step(steady, received(peer('Up', { poll: true })), 100);
    assert.equal(of(first.actions, 'sendPacket').length, 1);
    const second = step(first.state, received(peer('Up', { poll: true })), 150);
    assert.deepEqual(of(second.actions, 'sendPacket'), []);
    const tick = step(second.state, { type: 'TxTimerExpired' }, 300);
    const sent = of(tick.actions, 'sendPacket')[0]?.packet;
    assert.equal(sent?.final, true);
    assert.equal(sent?.poll, false);
    const third = step(tick.state, received(peer('Up', { poll: true })), 700);
    assert.equal(of(third.actions, 'sendPacket')[0]?.packet.final, true, 'the window has passed');
  });
});

describe('BFD on a simulated link (codec + state machine, virtual time)', () => {
  const B: BfdSessionConfig = { ...A, localDiscriminator: 0x22, jitterSeed: 2 };

  it('two active sessions come Up through Down -> Init -> Up and settle at 300 ms without P', () => {
    const sim = new LinkSimulation(A, B);
    sim.runUntil(5000);
    for (const i of [0, 1] as const) {
      assert.equal(sim.state(i).sessionState, 'Up');
      assert.equal(sim.state(i).polling, false);
      assert.equal(sim.state(i).txInUseUs, 300_000);
      const path = sim.sides[i].changes.map((c) => c.to);
      assert.ok(['Init,Up', 'Up'].includes(path.join(',')), path.join(','));
    }
    const late = sim.sides[0].txTimers.filter((t) => t.atMs > 3000);
    assert.ok(late.length > 0 && late.every((t) => t.ms >= 225 && t.ms <= 300), JSON.stringify(late));
  });

  it('a passive session waits for the active one; two passive ones never speak', () => {
    const sim = new LinkSimulation(A, { ...B, passive: true });
    sim.runUntil(5000);
    assert.equal(sim.state(1).sessionState, 'Up');
    assert.ok(sim.sides[1].sent[0]!.atMs > sim.sides[0].sent[0]!.atMs);
    const silent = new LinkSimulation({ ...A, passive: true }, { ...B, passive: true });
    silent.runUntil(10_000);
    assert.deepEqual([silent.sides[0].sent, silent.sides[1].sent], [[], []]);
    assert.equal(silent.state(0).sessionState, 'Down');
  });

  it('a cut link takes both Down within the Detection Time of the last packet, and they recover', () => {
    const sim = new LinkSimulation(A, B);
    sim.runUntil(5000);
    sim.linkUp = false;
    sim.runUntil(7000);
    for (const i of [0, 1] as const) {
      const down = sim.sides[i].changes.at(-1);
      assert.equal(down?.to, 'Down');
      assert.equal(down?.diag, Diag.ControlDetectionTimeExpired);
      // Detection Time is 3 x 300 ms from the last packet, which left at most 300 ms before the cut.
      assert.ok(down!.atMs > 5000 + 900 - 300 && down!.atMs <= 5000 + 900 + 1, `${down!.atMs}`);
    }
    sim.linkUp = true;
    sim.runUntil(12_000);
    assert.deepEqual([sim.state(0).sessionState, sim.state(1).sessionState], ['Up', 'Up']);
  });

  it('one side going AdminDown brings the other Down with diag 3, and back Up after AdminUp', () => {
    const sim = new LinkSimulation(A, B);
    sim.runUntil(5000);
    sim.event(0, { type: 'AdminDown' });
    sim.runUntil(5100);
    assert.deepEqual(sim.sides[1].changes.at(-1), {
      atMs: sim.sides[1].changes.at(-1)!.atMs,
      from: 'Up',
      to: 'Down',
      diag: 3,
      remoteState: 'AdminDown',
    });
    sim.runUntil(10_000);
    assert.equal(sim.state(1).sessionState, 'Down', 'stays Down while the peer is AdminDown');
    sim.event(0, { type: 'AdminUp' });
    sim.runUntil(14_000);
    assert.deepEqual([sim.state(0).sessionState, sim.state(1).sessionState], ['Up', 'Up']);
  });

  it('a timer change on one side goes through Poll/Final and both settle on the new interval', () => {
    const sim = new LinkSimulation(A, B);
    sim.runUntil(5000);
    sim.event(1, { type: 'Reconfigure', timers: { ...B, requiredMinRxUs: 1_000_000 } });
    sim.runUntil(9000);
    assert.equal(sim.state(1).polling, false);
    const late = sim.sides[0].txTimers.filter((t) => t.atMs > 6000);
    assert.ok(late.length > 0 && late.every((t) => t.ms >= 750 && t.ms <= 1000), JSON.stringify(late));
    assert.equal(sim.state(0).sessionState, 'Up');
    assert.deepEqual(sim.sides[0].changes.map((c) => c.to).slice(-1), ['Up'], 'no flap during the change');
  });
});
