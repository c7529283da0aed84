import { type ControlPacket, encodeControlPacket, receiveControlPacket } from '../codec/index.ts';
import { startSession, step } from './fsm.ts';
import type { BfdAction, BfdEvent, BfdSessionConfig, BfdState, StepResult } from './types.ts';

/** Test helper: two sessions on a simulated link, with a virtual clock (no sockets, no timers). */

interface Side {
  state: BfdState;
  txAtMs: number | undefined;
  detectAtMs: number | undefined;
  /** Every sendPacket action with its time, and the TX timer durations asked for. */
  readonly sent: { atMs: number; packet: ControlPacket }[];
  readonly txTimers: { atMs: number; ms: number }[];
  readonly changes: { atMs: number; from: string; to: string; diag: number; remoteState: string }[];
}

export class LinkSimulation {
  nowMs = 0;
  /** While false, packets are lost (the cable is pulled). */
  linkUp = true;
  readonly latencyMs: number;
  readonly sides: [Side, Side];
  private inFlight: { atMs: number; to: 0 | 1; bytes: Uint8Array }[] = [];

  constructor(a: BfdSessionConfig, b: BfdSessionConfig, latencyMs = 1) {
    this.latencyMs = latencyMs;
    const side = (): Side => ({
      state: undefined as never,
      txAtMs: undefined,
      detectAtMs: undefined,
      sent: [],
      txTimers: [],
      changes: [],
    });
    this.sides = [side(), side()];
    this.apply(0, startSession(a, 0));
    this.apply(1, startSession(b, 0));
  }

  state(i: 0 | 1): BfdState {
    return this.sides[i].state;
  }

  /** Feeds one event to a side now. */
  event(i: 0 | 1, event: BfdEvent): readonly BfdAction[] {
    const result = step(this.sides[i].state, event, this.nowMs);
    this.apply(i, result);
    return result.actions;
  }

  /** Runs every delivery and timer due up to `untilMs`, in time order. */
  runUntil(untilMs: number): void {
    for (;;) {
      const [a, b] = this.sides;
      const candidates: { atMs: number; run: () => void }[] = [];
      const delivery = this.inFlight.reduce<(typeof this.inFlight)[number] | undefined>(
        (m, d) => (m === undefined || d.atMs < m.atMs ? d : m),
        undefined,
      );
      if (delivery) candidates.push({ atMs: delivery.atMs, run: () => this.deliver(delivery) });
      for (const [i, s] of [
        [0, a],
        [1, b],
      ] as const) {
        const tx = s.txAtMs;
        if (tx !== undefined) candidates.push({ atMs: tx, run: () => this.timer(i, 'TxTimerExpired') });
        const det = s.detectAtMs;
        if (det !== undefined) candidates.push({ atMs: det, run: () => this.timer(i, 'DetectTimerExpired') });
      }
      const next = candidates.reduce<(typeof candidates)[number] | undefined>(
        (m, c) => (m === undefined || c.atMs < m.atMs ? c : m),
        undefined,
      );
      if (next === undefined || next.atMs > untilMs) break;
      this.nowMs = next.atMs;
      next.run();
    }
    this.nowMs = untilMs;
  }

  private timer(i: 0 | 1, type: 'TxTimerExpired' | 'DetectTimerExpired'): void {
    if (type === 'TxTimerExpired') this.sides[i].txAtMs = undefined;
    else this.sides[i].detectAtMs = undefined;
    this.event(i, { type });
  }

  /** Through the real codec and reception checks, as the shell will do it. */
  private deliver(d: (typeof this.inFlight)[number]): void {
    this.inFlight = this.inFlight.filter((x) => x !== d);
    const receiver = this.sides[d.to];
    const r = receiveControlPacket(d.bytes, 255, (your) =>
      your === 0 || your === receiver.state.config.localDiscriminator
        ? { session: d.to, hop: { kind: 'single-hop' } }
        : undefined,
    );
    if (!r.ok) throw new Error(`simulated link dropped a packet: ${r.reason} ${r.detail}`);
    this.event(d.to, { type: 'PacketReceived', packet: r.packet });
  }

  private apply(i: 0 | 1, result: StepResult): void {
    const s = this.sides[i];
    s.state = result.state;
    for (const a of result.actions) {
      switch (a.type) {
        case 'sendPacket':
          s.sent.push({ atMs: this.nowMs, packet: a.packet });
          if (this.linkUp)
            this.inFlight.push({
              atMs: this.nowMs + this.latencyMs,
              to: i === 0 ? 1 : 0,
              bytes: encodeControlPacket(a.packet),
            });
          break;
        case 'startTxTimer':
          s.txAtMs = this.nowMs + a.ms;
          s.txTimers.push({ atMs: this.nowMs, ms: a.ms });
          break;
        case 'stopTxTimer':
          s.txAtMs = undefined;
          break;
        case 'startDetectTimer':
          s.detectAtMs = this.nowMs + a.ms;
          break;
        case 'stateChanged':
          s.changes.push({
            atMs: this.nowMs,
            from: a.from,
            to: a.to,
            diag: a.diag,
            remoteState: a.remoteState,
          });
          break;
      }
    }
  }
}
