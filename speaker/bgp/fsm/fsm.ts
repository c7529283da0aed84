import {
  CeaseSubcode,
  ErrorCode,
  FsmSubcode,
  type NotificationMessage,
  notification,
} from '../codec/index.ts';
import { offerSecond, onSecond } from './collision.ts';
import { peerCanRestart, replaceRestartedPeer } from './graceful-restart.ts';
import { onMessageBeforeEstablished, onMessageEstablished } from './messages.ts';
import { Step } from './step-context.ts';
import { connect, openOn, start, startConnectRetry, toIdle } from './transitions.ts';
import type { ConnectionId, FsmConfig, FsmEvent, FsmState, StepResult } from './types.ts';

/**
 * The BGP finite state machine (RFC 4271 §8) as a pure step function: this file holds `step()`,
 * one row per state and event of §8.2.2, and the events every state takes alike. The moves the
 * rows share are in ./transitions.ts, connection collisions (§6.8) in ./collision.ts, graceful
 * restart (RFC 4724) in ./graceful-restart.ts, the peer's messages in ./messages.ts, OPEN
 * negotiation in ./negotiation.ts, the backoff in ./backoff.ts, the configuration's checks in
 * ./config.ts.
 */

export { LARGE_HOLD_TIME_MS } from './transitions.ts';

/** The initial state: Idle, nothing running. */
export function initialState(config: FsmConfig): FsmState {
  return {
    name: 'Idle',
    config,
    connectRetryCounter: 0,
    nextConnection: 1,
    rng: config.jitterSeed >>> 0 || 1,
  };
}

/**
 * BFD events, in any state (RFC 5882 §4.3, RFC 9384): Down resets the session at once with
 * Cease / BFD Down (when a connection is open to say it on), counts as a failure for the
 * backoff, and holds it Idle until BFD is Up again; Up releases it, starting it if its backoff
 * already ran out.
 */
function onBfd(s: Step, event: { type: 'BfdDown' | 'BfdUp' }): void {
  const st = s.state;
  if (event.type === 'BfdUp') {
    s.set({ bfdHeld: false });
    if (st.name === 'Idle' && st.startWhenBfdUp) start(s);
    return;
  }
  if (st.name !== 'Idle') {
    toIdle(s, 'BFD down', {
      notify: notification(ErrorCode.Cease, CeaseSubcode.BfdDown),
      restart: true,
      countFailure: true,
    });
  }
  s.set({ bfdHeld: true });
}

function isOurs(st: FsmState, conn: ConnectionId): boolean {
  return st.main?.id === conn || st.connecting === conn;
}

/**
 * One step of the BGP finite state machine (RFC 4271 §8.2.2): a pure function of the state, the
 * event and the time; the actions say what the shell must do, in order.
 */
export function step(state: FsmState, event: FsmEvent, nowMs: number): StepResult {
  const s = new Step(state);
  const st = state;
  const conn = 'conn' in event ? event.conn : undefined;

  // Events about a connection the session no longer uses (closed, or refused) change nothing,
  // except that a connection offered to us gets an answer.
  if (conn !== undefined && !isOurs(st, conn) && st.second?.id !== conn) {
    const isNew = event.type === 'TcpConnectionConfirmed' || event.type === 'TcpCRAcked';
    if (!isNew) return s.result();
  }
  if (conn !== undefined && st.second?.id === conn) {
    onSecond(s, event);
    return s.result();
  }

  const stopManually = (notify?: NotificationMessage): void => {
    s.set({ startWhenBfdUp: false });
    toIdle(s, 'stopped', {
      notify: notify ?? notification(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown),
      restart: false,
      countFailure: false,
    });
  };
  if (event.type === 'BfdDown' || event.type === 'BfdUp') {
    onBfd(s, event);
    return s.result();
  }
  // Each of these ends the session the same way in every state that takes the event (§8.2.2).
  const failWith = (reason: string, notify: NotificationMessage): void => {
    toIdle(s, reason, { notify, restart: true, countFailure: true });
  };
  const fsmError = (subcode: number): void => {
    failWith('unexpected message', notification(ErrorCode.FsmError, subcode));
  };
  const malformedMessage = (error: Extract<FsmEvent, { type: 'MessageError' }>): void => {
    failWith(
      `malformed message (${error.code}/${error.subcode})`,
      notification(error.code, error.subcode, error.data),
    );
  };
  const sendKeepalive = (): void => {
    s.do(
      { type: 'send', conn: st.main!.id, message: { type: 'keepalive' } },
      { type: 'startTimer', timer: 'keepalive', ms: st.negotiated!.keepaliveMs },
    );
  };

  // Once OPEN is sent, every state takes these events alike (§8.2.2).
  if (st.name === 'OpenSent' || st.name === 'OpenConfirm' || st.name === 'Established') {
    switch (event.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'IdleHoldTimerExpires':
        return s.result();
      case 'ManualStop':
        stopManually(event.notification);
        return s.result();
      case 'AutomaticStop':
        failWith(
          'stopped',
          event.notification ?? notification(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown),
        );
        return s.result();
      case 'HoldTimerExpires':
        failWith('hold timer expired', notification(ErrorCode.HoldTimerExpired, 0));
        return s.result();
    }
  }

  switch (st.name) {
    case 'Idle':
      switch (event.type) {
        case 'ManualStart':
          s.set({ connectRetryCounter: 0 });
          start(s);
          break;
        case 'AutomaticStart':
        case 'IdleHoldTimerExpires':
          start(s);
          break;
        case 'TcpConnectionConfirmed':
        case 'TcpCRAcked':
          // Idle refuses connections (RFC 4271 §8.2.2).
          s.do({ type: 'close', conn: event.conn });
          break;
        case 'ManualStop':
          // A stopped session does not start when BFD comes back.
          s.set({ startWhenBfdUp: false });
          break;
        default:
          break;
      }
      break;

    case 'Connect':
    case 'Active':
      switch (event.type) {
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimerExpires':
          break;
        case 'ManualStop':
          toIdle(s, 'stopped', { restart: false, countFailure: false });
          break;
        case 'ConnectRetryTimerExpires':
          s.set({ connectRetryCounter: st.connectRetryCounter + 1 });
          if (st.connecting) s.do({ type: 'close', conn: st.connecting });
          startConnectRetry(s);
          if (st.config.passive) s.set({ name: 'Active', connecting: undefined });
          else connect(s);
          break;
        case 'TcpCRAcked':
          if (event.conn !== st.connecting) {
            s.do({ type: 'close', conn: event.conn });
            break;
          }
          openOn(s, event.conn, true);
          break;
        case 'TcpConnectionConfirmed':
          openOn(s, event.conn, false);
          break;
        case 'TcpConnectionFails':
          toIdle(s, 'connection failed', { restart: true, countFailure: true });
          break;
        default:
          // Events 8, 10-11, 19, 21-28 here: release everything, count, go Idle.
          toIdle(s, `unexpected ${event.type} in ${st.name}`, { restart: true, countFailure: true });
          break;
      }
      break;

    case 'OpenSent':
    case 'OpenConfirm': {
      const inConfirm = st.name === 'OpenConfirm';
      switch (event.type) {
        case 'KeepaliveTimerExpires':
          if (!inConfirm) {
            fsmError(FsmSubcode.UnexpectedMessageInOpenSent);
            break;
          }
          sendKeepalive();
          break;
        case 'ConnectRetryTimerExpires':
          fsmError(
            inConfirm ? FsmSubcode.UnexpectedMessageInOpenConfirm : FsmSubcode.UnexpectedMessageInOpenSent,
          );
          break;
        case 'TcpCRAcked':
        case 'TcpConnectionConfirmed':
          offerSecond(s, event.conn, event.type === 'TcpCRAcked');
          break;
        case 'TcpConnectionFails':
          if (inConfirm) {
            toIdle(s, 'connection failed', { restart: true, countFailure: true });
          } else {
            // RFC 4271 §8.2.2 OpenSent event 18: close, restart ConnectRetry, go Active.
            s.do({ type: 'close', conn: st.main!.id }, { type: 'stopTimer', timer: 'hold' });
            s.set({ name: 'Active', main: undefined });
            startConnectRetry(s);
          }
          break;
        case 'MessageError':
          // A header (event 21) or OPEN (22) error gets its own NOTIFICATION; an UPDATE in error
          // (28), or a ROUTE-REFRESH, is a message these states do not take at all (§8.2.2).
          if (event.code === ErrorCode.UpdateMessage || event.code === ErrorCode.RouteRefreshMessage) {
            fsmError(
              inConfirm ? FsmSubcode.UnexpectedMessageInOpenConfirm : FsmSubcode.UnexpectedMessageInOpenSent,
            );
            break;
          }
          malformedMessage(event);
          break;
        case 'Message':
          onMessageBeforeEstablished(s, event.message, nowMs);
          break;
      }
      break;
    }

    case 'Established':
      switch (event.type) {
        case 'KeepaliveTimerExpires':
          sendKeepalive();
          break;
        case 'ConnectRetryTimerExpires':
          fsmError(FsmSubcode.UnexpectedMessageInEstablished);
          break;
        case 'TcpCRAcked':
        case 'TcpConnectionConfirmed':
          if (event.type === 'TcpConnectionConfirmed' && peerCanRestart(st)) {
            replaceRestartedPeer(s, event.conn);
            break;
          }
          // §6.8: a collision with an Established session closes the new connection.
          s.do({ type: 'close', conn: event.conn });
          break;
        case 'TcpConnectionFails':
          toIdle(s, 'connection lost', { restart: true, countFailure: true });
          break;
        case 'MessageError':
          // §8.2.2 Established: an OPEN in error (event 22) is an FSM error like any OPEN here.
          if (event.code === ErrorCode.OpenMessage) {
            fsmError(FsmSubcode.UnexpectedMessageInEstablished);
            break;
          }
          malformedMessage(event);
          break;
        case 'Message':
          onMessageEstablished(s, event.message);
          break;
      }
      break;
  }
  return s.result();
}
