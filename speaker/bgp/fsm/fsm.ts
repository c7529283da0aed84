import {
  type BgpMessage,
  CeaseSubcode,
  ErrorCode,
  FsmSubcode,
  type NotificationMessage,
  notification,
  type OpenMessage,
  OpenSubcode,
  parseAddress,
} from '../codec/index.ts';
import { buildOpen, negotiate } from './negotiation.ts';
import type { ConnectionId, FsmAction, FsmConfig, FsmEvent, FsmState, StepResult } from './types.ts';

/** Hold time while waiting for the peer's OPEN (RFC 4271 §8.2.2: "4 minutes is suggested"). */
export const LARGE_HOLD_TIME_MS = 240_000;

/** Checks a configuration; returns the problems, each naming the field. */
export function validateFsmConfig(config: FsmConfig): string[] {
  const problems: string[] = [];
  const asn = (v: number) => Number.isInteger(v) && v >= 1 && v <= 0xffffffff;
  if (!asn(config.localAs)) problems.push(`localAs ${config.localAs} is not an AS number 1..4294967295`);
  if (!asn(config.peerAs)) problems.push(`peerAs ${config.peerAs} is not an AS number 1..4294967295`);
  const id = parseAddress(config.routerId);
  if (id?.family !== 'IPv4' || id.bytes.every((b) => b === 0)) {
    problems.push(`routerId "${config.routerId}" is not a non-zero IPv4 address`);
  }
  const h = config.holdTimeSec;
  if (!Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2) {
    problems.push(`holdTime ${h} s must be 0 or 3..65535 (RFC 4271 §4.2)`);
  }
  if (
    config.keepaliveSec !== undefined &&
    (!Number.isInteger(config.keepaliveSec) || config.keepaliveSec < 1)
  ) {
    problems.push(`keepaliveTime ${config.keepaliveSec} s must be at least 1 s`);
  }
  if (!(config.connectRetryMs > 0) || config.connectRetryMaxMs < config.connectRetryMs) {
    problems.push('connectRetry must be positive and not above its maximum');
  }
  return problems;
}

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

/** mulberry32: a tiny seeded generator, so jitter is deterministic under test. */
function nextRandom(seed: number): { value: number; seed: number } {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, seed: next };
}

/**
 * Backoff delay after `attempts` failures: base × 2^attempts, capped, jittered to 75–100 %
 * (RFC 4271 §10) so that a misconfigured peer sees no connection storm.
 */
export function backoffMs(config: FsmConfig, attempts: number, random: number): number {
  const raw = Math.min(config.connectRetryMaxMs, config.connectRetryMs * 2 ** Math.min(attempts, 30));
  return Math.round(raw * (0.75 + 0.25 * random));
}

function u32OfId(id: string): number {
  const bytes = parseAddress(id)?.bytes ?? new Uint8Array(4);
  return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
}

/** Collects actions and the evolving state for one step. */
class Step {
  state: FsmState;
  readonly actions: FsmAction[] = [];
  constructor(state: FsmState) {
    this.state = state;
  }
  set(patch: Partial<FsmState>): void {
    this.state = { ...this.state, ...patch };
  }
  do(...actions: FsmAction[]): void {
    this.actions.push(...actions);
  }
  result(): StepResult {
    return { state: this.state, actions: this.actions };
  }
}

const ALL_TIMERS = ['connectRetry', 'hold', 'keepalive', 'idleHold'] as const;

/** Draws the next jittered backoff delay. */
function drawBackoff(s: Step, attempts: number): number {
  const r = nextRandom(s.state.rng);
  s.set({ rng: r.seed });
  return backoffMs(s.state.config, attempts, r.value);
}

/** Starts the ConnectRetry timer (jittered backoff on the attempts so far). */
function startConnectRetry(s: Step): void {
  s.do({ type: 'startTimer', timer: 'connectRetry', ms: drawBackoff(s, s.state.connectRetryCounter) });
}

/** Opens an outgoing connection in Connect state. */
function connect(s: Step): void {
  const conn = `out#${s.state.nextConnection}`;
  s.set({ name: 'Connect', connecting: conn, nextConnection: s.state.nextConnection + 1 });
  s.do({ type: 'connect', conn });
}

/**
 * Leaves for Idle: optional NOTIFICATION first, then every connection and timer goes; with
 * `restart`, the IdleHold timer brings the session back after a backoff (RFC 4271 §8.1.1
 * DampPeerOscillations), counting this as a failed attempt.
 */
function toIdle(
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
function start(s: Step): void {
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
function openOn(s: Step, conn: ConnectionId, outgoing: boolean): void {
  const st = s.state;
  if (st.connecting && st.connecting !== conn) s.do({ type: 'close', conn: st.connecting });
  s.do(
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'send', conn, message: buildOpen(st.config) },
    { type: 'startTimer', timer: 'hold', ms: LARGE_HOLD_TIME_MS },
  );
  s.set({ name: 'OpenSent', connecting: undefined, main: { id: conn, outgoing } });
}

function ceaseCollision(): NotificationMessage {
  return notification(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
}

/**
 * RFC 4271 §6.8: of two connections, the one started by the side with the higher BGP
 * Identifier survives; with equal ones (allowed between ASes, RFC 6286 §2.2), the one started
 * by the side with the larger AS number (RFC 6286 §2.3).
 */
function keepOutgoing(config: FsmConfig, peerBgpId: string): boolean {
  const ours = u32OfId(config.routerId);
  const theirs = u32OfId(peerBgpId);
  return ours === theirs ? config.localAs > config.peerAs : ours > theirs;
}

/** The peer's OPEN arrived on the main connection in OpenSent. */
function acceptOpen(s: Step, open: OpenMessage): void {
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

/** Events on the second connection of a collision (RFC 4271 §6.8). */
function onSecond(s: Step, event: FsmEvent): void {
  const st = s.state;
  const second = st.second!;
  if (event.type === 'TcpConnectionFails' || event.type === 'MessageError') {
    s.do({ type: 'close', conn: second.id });
    s.set({ second: undefined });
    return;
  }
  if (event.type !== 'Message' || event.message.type !== 'open') {
    if (event.type === 'Message' && event.message.type === 'notification') {
      s.do({ type: 'close', conn: second.id });
      s.set({ second: undefined });
    }
    return;
  }
  const open = event.message;
  if (keepOutgoing(st.config, open.bgpId) === second.outgoing) {
    // The second connection wins: the main one is dumped (event 23, OpenCollisionDump).
    s.do(
      { type: 'send', conn: st.main!.id, message: ceaseCollision() },
      { type: 'close', conn: st.main!.id },
    );
    s.set({ name: 'OpenSent', main: second, second: undefined, negotiated: undefined });
    s.do({ type: 'stopTimer', timer: 'keepalive' });
    acceptOpen(s, open);
  } else {
    s.do({ type: 'send', conn: second.id, message: ceaseCollision() }, { type: 'close', conn: second.id });
    s.set({ second: undefined });
  }
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
          if (st.second || event.conn === st.main!.id) {
            s.do({ type: 'close', conn: event.conn });
            break;
          }
          // A second connection: answer it with OPEN and resolve on the peer's OPEN (§6.8).
          s.set({ second: { id: event.conn, outgoing: event.type === 'TcpCRAcked' } });
          s.do({ type: 'send', conn: event.conn, message: buildOpen(st.config) });
          if (inConfirm && st.main!.peerOpen) {
            // The peer's identifier is known: decide at once.
            const keepMain = keepOutgoing(st.config, st.main!.peerOpen.bgpId) === st.main!.outgoing;
            if (keepMain) {
              s.do(
                { type: 'send', conn: event.conn, message: ceaseCollision() },
                { type: 'close', conn: event.conn },
              );
              s.set({ second: undefined });
            }
          }
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

/** The peer advertised graceful restart for at least one family (RFC 4724 §3). */
function peerCanRestart(st: FsmState): boolean {
  return (
    st.negotiated?.peerOpen.capabilities.some(
      (c) => c.kind === 'graceful-restart' && c.families.length > 0,
    ) ?? false
  );
}

/**
 * RFC 4724 §5, Established, event 17 with graceful restart received: the peer connecting again
 * has restarted and its old connection is dead, so the old one is dropped (no NOTIFICATION: the
 * peer keeps our routes until End-of-RIB), the counter reset, and the session starts over on
 * the new connection instead of the §6.8 collision rule closing it.
 */
function replaceRestartedPeer(s: Step, conn: ConnectionId): void {
  s.do({ type: 'close', conn: s.state.main!.id });
  for (const timer of ALL_TIMERS) s.do({ type: 'stopTimer', timer });
  s.do({ type: 'down', reason: 'peer restarted: new connection replaces the old (RFC 4724 §5)' });
  s.set({
    name: 'Connect',
    connectRetryCounter: 0,
    main: undefined,
    negotiated: undefined,
    establishedAtMs: undefined,
  });
  openOn(s, conn, false);
}

function restartHold(s: Step): void {
  const n = s.state.negotiated;
  if (n && n.holdTimeSec > 0) s.do({ type: 'startTimer', timer: 'hold', ms: n.holdTimeSec * 1000 });
}

function onMessageBeforeEstablished(s: Step, message: BgpMessage, nowMs: number): void {
  const st = s.state;
  const inConfirm = st.name === 'OpenConfirm';
  switch (message.type) {
    case 'open':
      if (inConfirm) {
        // §8.2.2 OpenConfirm: an OPEN failing the checks of §6.2 gets their error (event 22); one
        // passing them is unexpected on a connection that has had its OPEN (RFC 6608).
        const checked = negotiate(st.config, message);
        toIdle(s, 'second OPEN', {
          notify:
            'type' in checked
              ? checked
              : notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInOpenConfirm),
          restart: true,
          countFailure: true,
        });
        return;
      }
      acceptOpen(s, message);
      return;
    case 'notification':
      // A version error (event 24) does not count as a failure; any other one (25) does.
      toIdle(s, `NOTIFICATION ${message.code}/${message.subcode} received`, {
        restart: true,
        countFailure: !(
          message.code === ErrorCode.OpenMessage && message.subcode === OpenSubcode.UnsupportedVersionNumber
        ),
      });
      return;
    case 'keepalive':
      if (inConfirm) {
        const negotiated = st.negotiated!;
        s.set({ name: 'Established', connectRetryCounter: 0, establishedAtMs: nowMs });
        restartHold(s);
        s.do({ type: 'established', conn: st.main!.id, negotiated });
        return;
      }
      toIdle(s, 'KEEPALIVE before OPEN', {
        notify: notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInOpenSent),
        restart: true,
        countFailure: true,
      });
      return;
    default:
      toIdle(s, `${message.type} before Established`, {
        notify: notification(
          ErrorCode.FsmError,
          inConfirm ? FsmSubcode.UnexpectedMessageInOpenConfirm : FsmSubcode.UnexpectedMessageInOpenSent,
        ),
        restart: true,
        countFailure: true,
      });
  }
}

function onMessageEstablished(s: Step, message: BgpMessage): void {
  switch (message.type) {
    case 'keepalive':
      restartHold(s);
      return;
    case 'update':
      restartHold(s);
      s.do({ type: 'update', message });
      return;
    case 'route-refresh':
      restartHold(s);
      s.do({ type: 'routeRefresh', afi: message.afi, safi: message.safi, subtype: message.subtype });
      return;
    case 'notification':
      toIdle(s, `NOTIFICATION ${message.code}/${message.subcode} received`, {
        restart: true,
        countFailure: true,
      });
      return;
    case 'open':
      toIdle(s, 'OPEN in Established', {
        notify: notification(ErrorCode.FsmError, FsmSubcode.UnexpectedMessageInEstablished),
        restart: true,
        countFailure: true,
      });
      return;
  }
}
