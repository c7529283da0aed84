import { type ControlPacket, Diag, type SessionStateName } from '../codec/index.ts';
import {
  detectionTimeUs,
  jitteredIntervalUs,
  MIN_JITTER_FACTOR,
  nextRandom,
  SLOW_TX_US,
  transmitIntervalUs,
} from './timers.ts';
import type { BfdAction, BfdEvent, BfdSessionConfig, BfdState, StepResult } from './types.ts';

/**
 * One BFD session in Asynchronous mode (RFC 5880) as a pure state machine: the shell feeds it
 * received packets, timer expiries and administrative commands with the time, and carries out
 * the returned actions. Rules kept here:
 * - states and diagnostics: the reception table of §6.8.6, Detection Time expiry of §6.8.4,
 *   administrative control of §6.8.16;
 * - timers: TX interval max(our desired TX, peer's required RX) (§6.8.2), at least 1 s sent
 *   while not Up (§6.8.3), jitter of §6.8.7, changes while Up through a Poll Sequence (§6.5)
 *   with an increased TX or reduced RX interval in force only after the Final (§6.8.3);
 * - no periodic packet in the passive role before the peer's discriminator is known, when the
 *   peer asks for none (Required Min RX 0), or while the peer runs Demand mode (§6.8.7);
 * - a Poll is answered at once with a Final, at most one per advertised TX interval (§6.8.7
 *   allows the limit; a peer cannot make us send faster than we say we do).
 * We never set D (no Demand mode of our own), A (no authentication) or C (we share fate with the
 * speaker), and advertise no echo (Required Min Echo RX 0).
 */

type Draft = { -readonly [K in keyof BfdState]: BfdState[K] };

/** A new session (RFC 5880 §6.8.1 initial values, state Down); the active role sends at once. */
export function startSession(config: BfdSessionConfig, nowMs: number): StepResult {
  const s: Draft = {
    config,
    sessionState: 'Down',
    localDiag: Diag.NoDiagnostic,
    remoteState: 'Down',
    remoteDiscriminator: 0,
    remoteDiag: Diag.NoDiagnostic,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    advertisedTxUs: 0,
    advertisedRxUs: 0,
    txInUseUs: 0,
    rxInUseUs: 0,
    polling: false,
    finalPending: false,
    lastFinalMs: undefined,
    lastTxMs: undefined,
    nextTxMs: undefined,
    nextTxIntervalUs: undefined,
    lastRxMs: undefined,
    detectDeadlineMs: undefined,
    changedAtMs: nowMs,
    rng: config.jitterSeed >>> 0,
  };
  const actions: BfdAction[] = [];
  retime(s);
  scheduleTx(s, nowMs, actions, true);
  return { state: s, actions };
}

/** Applies one event at `nowMs`; returns the next state and what the shell must do. */
export function step(state: BfdState, event: BfdEvent, nowMs: number): StepResult {
  const s: Draft = { ...state };
  const actions: BfdAction[] = [];
  let urgent = false;
  switch (event.type) {
    case 'PacketReceived':
      urgent = receive(s, event.packet, nowMs, actions);
      break;
    case 'TxTimerExpired':
      if (s.nextTxMs === undefined) break; // stopped after the shell queued it
      s.nextTxMs = undefined; // fired: nothing armed in the shell now
      if (mayTransmitPeriodic(s)) sendPeriodic(s, nowMs, actions);
      break;
    case 'DetectTimerExpired':
      urgent = detectTimerExpired(s, nowMs, actions);
      break;
    case 'AdminDown':
      if (s.sessionState === 'AdminDown') break;
      changeState(s, 'AdminDown', event.diag ?? Diag.AdministrativelyDown, nowMs, actions);
      urgent = true;
      break;
    case 'AdminUp':
      if (s.sessionState !== 'AdminDown') break;
      changeState(s, 'Down', s.localDiag, nowMs, actions);
      urgent = true;
      break;
    case 'Reconfigure': {
      // Only the timers and the role: the discriminator names the session for its whole life.
      const { desiredMinTxUs, requiredMinRxUs, detectMult, passive } = event.timers;
      s.config = { ...s.config, desiredMinTxUs, requiredMinRxUs, detectMult, passive };
      break;
    }
  }
  retime(s);
  rearmDetection(s, nowMs, actions);
  scheduleTx(s, nowMs, actions, urgent);
  return { state: s, actions };
}

/** RFC 5880 §6.8.6 from "Set bfd.RemoteDiscr" on. Returns whether the state changed. */
function receive(s: Draft, p: ControlPacket, nowMs: number, actions: BfdAction[]): boolean {
  s.remoteDiscriminator = p.myDiscriminator;
  s.remoteState = p.state;
  s.remoteDemand = p.demand;
  s.remoteMinRxUs = p.requiredMinRxUs;
  s.remoteDesiredMinTxUs = p.desiredMinTxUs;
  s.remoteDetectMult = p.detectMult;
  s.remoteDiag = p.diag;
  if (s.polling && p.final) {
    s.polling = false;
    s.txInUseUs = s.advertisedTxUs;
    s.rxInUseUs = s.advertisedRxUs;
  }
  if (s.sessionState === 'AdminDown') return false; // discarded: not even counted as received
  s.lastRxMs = nowMs;
  const before = s.sessionState;
  const next = nextState(before, p.state);
  if (next !== before) {
    const diag = next === 'Down' ? Diag.NeighborSignaledSessionDown : s.localDiag;
    changeState(s, next, diag, nowMs, actions);
  }
  if (p.poll) answerPoll(s, nowMs, actions);
  return next !== before;
}

/** The reception table of RFC 5880 §6.8.6: our state and the peer's -> our next state. */
export function nextState(local: SessionStateName, received: SessionStateName): SessionStateName {
  if (local === 'AdminDown') return local;
  if (received === 'AdminDown') return 'Down';
  if (local === 'Down') {
    if (received === 'Down') return 'Init';
    if (received === 'Init') return 'Up';
    return local;
  }
  if (local === 'Init') return received === 'Init' || received === 'Up' ? 'Up' : local;
  return received === 'Down' ? 'Down' : local;
}

function changeState(
  s: Draft,
  to: SessionStateName,
  diag: number,
  nowMs: number,
  actions: BfdAction[],
): void {
  const from = s.sessionState;
  s.sessionState = to;
  s.localDiag = diag;
  s.changedAtMs = nowMs;
  // The new state goes out at once (a Final below carries it), and the timers follow it.
  retime(s);
  actions.push({ type: 'stateChanged', from, to, diag, remoteState: s.remoteState });
}

/** §6.8.4 Detection Time expiry; §6.8.1 and §6.8.18: the peer's session state is forgotten. */
function detectTimerExpired(s: Draft, nowMs: number, actions: BfdAction[]): boolean {
  if (s.detectDeadlineMs === undefined) return false;
  if (nowMs < s.detectDeadlineMs) {
    // A packet came in after the timer was queued: the silence has not lasted long enough.
    actions.push({ type: 'startDetectTimer', ms: s.detectDeadlineMs - nowMs });
    return false;
  }
  s.detectDeadlineMs = undefined;
  s.lastRxMs = undefined;
  s.remoteDiscriminator = 0;
  s.remoteState = 'Down';
  s.remoteMinRxUs = 1;
  s.remoteDesiredMinTxUs = 0;
  s.remoteDetectMult = 0;
  s.remoteDemand = false;
  s.finalPending = false;
  if (s.sessionState !== 'Init' && s.sessionState !== 'Up') return false;
  changeState(s, 'Down', Diag.ControlDetectionTimeExpired, nowMs, actions);
  return true;
}

/** §6.8.7: a Poll is answered at once with P clear and F set, rate-limited to our advertised TX. */
function answerPoll(s: Draft, nowMs: number, actions: BfdAction[]): void {
  if (s.lastFinalMs !== undefined && nowMs - s.lastFinalMs < s.advertisedTxUs / 1000) {
    s.finalPending = true;
    return;
  }
  s.lastFinalMs = nowMs;
  actions.push({ type: 'sendPacket', packet: buildPacket(s, false, true) });
}

/**
 * Brings the advertised and in-force timers in line with the session state and configuration
 * (RFC 5880 §6.8.3). Not Up: at least 1 s TX, applied at once, no Poll Sequence. Up: a change
 * starts a Poll Sequence; a faster TX or slower RX is safe at once, the opposite waits for the
 * Final; a change during a Poll Sequence waits for it to end.
 */
function retime(s: Draft): void {
  const up = s.sessionState === 'Up';
  const wantTx = up ? s.config.desiredMinTxUs : Math.max(s.config.desiredMinTxUs, SLOW_TX_US);
  const wantRx = s.config.requiredMinRxUs;
  if (!up) {
    s.polling = false;
    s.advertisedTxUs = s.txInUseUs = wantTx;
    s.advertisedRxUs = s.rxInUseUs = wantRx;
    return;
  }
  if (s.polling || (wantTx === s.advertisedTxUs && wantRx === s.advertisedRxUs)) return;
  s.advertisedTxUs = wantTx;
  s.advertisedRxUs = wantRx;
  s.txInUseUs = Math.min(s.txInUseUs, wantTx);
  s.rxInUseUs = Math.max(s.rxInUseUs, wantRx);
  s.polling = true;
}

/**
 * Keeps the detection timer at last reception + Detection Time. A packet restarts it; a longer
 * Detection Time (a slower RX interval, or the peer's slower TX) stretches it at once, so the
 * peer's first packet at its new, slower rate is not taken for silence.
 */
function rearmDetection(s: Draft, nowMs: number, actions: BfdAction[]): void {
  if (s.lastRxMs === undefined || s.remoteDetectMult === 0) return;
  const deadline = s.lastRxMs + detectionTimeUs(s) / 1000;
  if (deadline === s.detectDeadlineMs) return;
  s.detectDeadlineMs = deadline;
  actions.push({ type: 'startDetectTimer', ms: Math.max(0, deadline - nowMs) });
}

/** §6.8.7: whether periodic packets may go out now. */
function mayTransmitPeriodic(s: Draft): boolean {
  if (s.config.passive && s.remoteDiscriminator === 0) return false;
  if (s.finalPending) return true; // the delayed Final goes out whatever else holds
  if (s.remoteMinRxUs === 0) return false;
  const remoteDemandActive = s.remoteDemand && s.sessionState === 'Up' && s.remoteState === 'Up';
  return !remoteDemandActive || s.polling;
}

/**
 * Reconciles the TX timer with what may be sent and how often. `urgent` (a state change, a first
 * packet): send as soon as the interval allows, that is 75 % of it after the last packet. A
 * shorter interval than the armed one is honoured at once (§6.8.3); a longer one applies from
 * the next packet.
 */
function scheduleTx(s: Draft, nowMs: number, actions: BfdAction[], urgent: boolean): void {
  if (!mayTransmitPeriodic(s)) {
    disarmTx(s, actions);
    return;
  }
  const intervalUs = transmitIntervalUs(s);
  const armed = s.nextTxMs !== undefined && s.nextTxIntervalUs !== undefined;
  if (armed && !urgent && intervalUs >= s.nextTxIntervalUs!) return;
  const gapUs = urgent ? MIN_JITTER_FACTOR * intervalUs : drawInterval(s, intervalUs);
  const dueMs = s.lastTxMs === undefined ? nowMs : s.lastTxMs + gapUs / 1000;
  if (armed && dueMs >= s.nextTxMs!) return;
  if (dueMs <= nowMs) {
    sendPeriodic(s, nowMs, actions);
    return;
  }
  armTx(s, nowMs, dueMs, intervalUs, actions);
}

/** Sends the periodic packet (P while polling, or a delayed F instead) and arms the next one. */
function sendPeriodic(s: Draft, nowMs: number, actions: BfdAction[]): void {
  const final = s.finalPending;
  s.finalPending = false;
  if (final) s.lastFinalMs = nowMs;
  actions.push({ type: 'sendPacket', packet: buildPacket(s, s.polling && !final, final) });
  s.lastTxMs = nowMs;
  if (!mayTransmitPeriodic(s)) {
    disarmTx(s, actions);
    return;
  }
  const intervalUs = transmitIntervalUs(s);
  armTx(s, nowMs, nowMs + drawInterval(s, intervalUs) / 1000, intervalUs, actions);
}

function disarmTx(s: Draft, actions: BfdAction[]): void {
  if (s.nextTxMs !== undefined) actions.push({ type: 'stopTxTimer' });
  s.nextTxMs = undefined;
  s.nextTxIntervalUs = undefined;
}

function armTx(s: Draft, nowMs: number, dueMs: number, intervalUs: number, actions: BfdAction[]): void {
  s.nextTxMs = dueMs;
  s.nextTxIntervalUs = intervalUs;
  actions.push({ type: 'startTxTimer', ms: dueMs - nowMs });
}

function drawInterval(s: Draft, intervalUs: number): number {
  const r = nextRandom(s.rng);
  s.rng = r.seed;
  return jitteredIntervalUs(intervalUs, s.config.detectMult, r.value);
}

/** Our control packet as §6.8.7 fills it. */
function buildPacket(s: Draft, poll: boolean, final: boolean): ControlPacket {
  return {
    diag: s.localDiag,
    state: s.sessionState,
    poll,
    final,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: s.config.detectMult,
    myDiscriminator: s.config.localDiscriminator,
    yourDiscriminator: s.remoteDiscriminator,
    desiredMinTxUs: s.advertisedTxUs,
    requiredMinRxUs: s.advertisedRxUs,
    requiredMinEchoRxUs: 0,
  };
}
