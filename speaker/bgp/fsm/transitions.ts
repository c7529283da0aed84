import type { NotificationMessage, OpenMessage } from '../codec/index.ts';
import { drawBackoff } from './backoff.ts';
import { buildOpen, negotiate } from './negotiation.ts';
import { ALL_TIMERS, type Step } from './step-context.ts';
import type { ConnectionId } from './types.ts';

/**
 * The moves many events of RFC 4271 §8.2.2 share: start, connect, send OPEN on a connection,
 * take the peer's OPEN, and go Idle. Each keeps the timers and connections consistent with the
 * state it enters, so the per-state rows in ./fsm.ts only choose which move an event makes.
 */

/** Hold time while waiting for the peer's OPEN (RFC 4271 §8.2.2: "4 minutes is suggested"). */
export const LARGE_HOLD_TIME_MS = 240_000;

/** Starts the ConnectRetry timer (jittered backoff on the attempts so far). */
export function startConnectRetry(s: Step): void {
  s.do({ type: 'startTimer', timer: 'connectRetry', ms: drawBackoff(s, s.state.connectRetryCounter) });
}

/** Opens an outgoing connection in Connect state. */
export function connect(s: Step): void {
  const conn = `out#${s.state.nextConnection}`;
  s.set({ name: 'Connect', connecting: conn, nextConnection: s.state.nextConnection + 1 });
  s.do({ type: 'connect', conn });
}

/**
 * Leaves for Idle: optional NOTIFICATION first, then every connection and timer goes; with
 * `restart`, the IdleHold timer brings the session back after a backoff (RFC 4271 §8.1.1
 * DampPeerOscillations), counting this as a failed attempt.
 */
export function toIdle(
  s: Step,
  reason: string,
  options: { notify?: NotificationMessage; restart: boolean; countFailure: boolean },
): void {
  const st = s.state;
  if (options.notify && st.main) s.do({ type: 'send', conn: st.main.id, message: options.notify });
  for (const conn of [st.main?.id, st.second?.id, st.connecting]) if (conn) s.do({ type: 'close', conn });
  for (const timer of ALL_TIMERS) s.do({ type: 'stopTimer', timer });
  if (st.name === 'Established') s.do({ type: 'down', reason });
  const counter = options.restart ? st.connectRetryCounter + (options.countFailure ? 1 : 0) : 0;
  s.set({
    name: 'Idle',
    connectRetryCounter: counter,
    main: undefined,
    second: undefined,
    connecting: undefined,
    negotiated: undefined,
    establishedAtMs: undefined,
  });
  if (options.restart)
    s.do({ type: 'startTimer', timer: 'idleHold', ms: drawBackoff(s, Math.max(0, counter - 1)) });
}

/**
 * Start from Idle: connect (active) or wait for the peer (passive); while BFD holds the session
 * (it went Down and is not Up again), only remember to start when it is.
 */
export function start(s: Step): void {
  const st = s.state;
  if (st.bfdHeld) {
    s.set({ startWhenBfdUp: true });
    return;
  }
  s.set({ startWhenBfdUp: false });
  s.do({ type: 'stopTimer', timer: 'idleHold' });
  startConnectRetry(s);
  if (st.config.passive) s.set({ name: 'Active' });
  else connect(s);
}

/** A connection is up in Connect / Active: send OPEN, wait for the peer's with a long hold. */
export function openOn(s: Step, conn: ConnectionId, outgoing: boolean): void {
  const st = s.state;
  if (st.connecting && st.connecting !== conn) s.do({ type: 'close', conn: st.connecting });
  s.do(
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'send', conn, message: buildOpen(st.config) },
    { type: 'startTimer', timer: 'hold', ms: LARGE_HOLD_TIME_MS },
  );
  s.set({ name: 'OpenSent', connecting: undefined, main: { id: conn, outgoing } });
}

/** The peer's OPEN arrived on the main connection in OpenSent. */
export function acceptOpen(s: Step, open: OpenMessage): void {
  const st = s.state;
  const main = st.main!;
  const result = negotiate(st.config, open);
  if ('type' in result) {
    toIdle(s, 'OPEN rejected', { notify: result, restart: true, countFailure: true });
    return;
  }
  s.set({ name: 'OpenConfirm', main: { ...main, peerOpen: open }, negotiated: result });
  s.do({ type: 'setContext', conn: main.id, negotiated: result });
  s.do({ type: 'send', conn: main.id, message: { type: 'keepalive' } });
  if (result.holdTimeSec > 0) {
    s.do(
      { type: 'startTimer', timer: 'keepalive', ms: result.keepaliveMs },
      { type: 'startTimer', timer: 'hold', ms: result.holdTimeSec * 1000 },
    );
  } else {
    s.do({ type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' });
  }
}

/** Any message from the peer while Established (or the session entering it) restarts the hold timer. */
export function restartHold(s: Step): void {
  const n = s.state.negotiated;
  if (n && n.holdTimeSec > 0) s.do({ type: 'startTimer', timer: 'hold', ms: n.holdTimeSec * 1000 });
}
