import { BfdPort } from '../codec/index.ts';
import type { BfdTransition } from './client.ts';
import { BfdEngine, type BfdEngineIo, type OnDatagram } from './engine.ts';
import { destinationPort, SEND_TTL } from './spec.ts';

interface VirtualTimer {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Test helper: BFD engines on a simulated network with a virtual clock (no sockets, no timers).
 * Each host has one address; a datagram reaches the receiver bound to its destination address
 * and port after `latencyMs`, with the TTL lowered by the hops between the two hosts.
 */
export class VirtualNetwork {
  nowMs = 0;
  latencyMs = 1;
  /** address → hops to every other host (default 0: on one link). */
  readonly hops = new Map<string, number>();
  /** Addresses whose packets are lost, both ways (a pulled cable). */
  readonly cut = new Set<string>();
  /** Every delay a timer was armed with, to check the shell's rounding. */
  readonly timerDelays: number[] = [];
  readonly #timers: VirtualTimer[] = [];
  /** `address|port` → receiver */
  readonly #receivers = new Map<string, OnDatagram>();
  #seq = 0;
  #seed = 1;

  /** A host at `address`; `failOpens` makes its first openSender calls throw ENETUNREACH. */
  host(address: string, options: { failOpens?: number } = {}): VirtualHost {
    return new VirtualHost(this, address, options.failOpens ?? 0);
  }

  /**
   * The world of an engine at `address`: its sockets on this network, the virtual clock and
   * timers. `failOpens`: its first openSender calls throw ENETUNREACH.
   */
  io(address: string, options: { failOpens?: number; onReceiver?: (at: string) => void } = {}): BfdEngineIo {
    let failures = options.failOpens ?? 0;
    return {
      openSender: (spec) => {
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error('connect: Network is unreachable'), { code: 'ENETUNREACH' });
        }
        const port = destinationPort(spec);
        return {
          sender: { send: (bytes) => this.send(address, spec.peerAddress, port, bytes), close: () => {} },
          localAddress: spec.localAddress ?? address,
        };
      },
      openReceiver: (_family, localAddress, multihop, onDatagram) => {
        const port = multihop ? BfdPort.Multihop : BfdPort.SingleHop;
        options.onReceiver?.(`${localAddress}|${port}`);
        return this.bind(localAddress, port, onDatagram);
      },
      nowMs: () => this.nowMs,
      wallMs: () => 1_700_000_000_000 + this.nowMs,
      random: () => this.random(),
      setTimer: (run, ms) => this.setTimer(run, ms),
      clearTimer: (handle) => this.clearTimer(handle),
    };
  }

  /** Deterministic [0, 1). */
  random(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2 ** 31;
    return this.#seed / 2 ** 31;
  }

  setTimer(run: () => void, ms: number): VirtualTimer {
    this.timerDelays.push(ms);
    const timer = { atMs: this.nowMs + ms, seq: ++this.#seq, run };
    this.#timers.push(timer);
    return timer;
  }

  clearTimer(handle: unknown): void {
    const i = this.#timers.indexOf(handle as VirtualTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  bind(address: string, port: number, onDatagram: OnDatagram): { close(): void } {
    const key = `${address}|${port}`;
    if (this.#receivers.has(key))
      throw Object.assign(new Error(`bind ${key}: in use`), { code: 'EADDRINUSE' });
    this.#receivers.set(key, onDatagram);
    return { close: () => this.#receivers.delete(key) };
  }

  /** Sends a datagram as any host may (a forged or broken one too). */
  send(from: string, to: string, port: number, bytes: Uint8Array, ttl = SEND_TTL): void {
    if (this.cut.has(from) || this.cut.has(to)) return;
    const arrivesWith = ttl - Math.max(this.hops.get(from) ?? 0, this.hops.get(to) ?? 0);
    const copy = bytes.slice();
    this.setTimer(() => this.#receivers.get(`${to}|${port}`)?.(copy, arrivesWith, from), this.latencyMs);
    this.timerDelays.pop(); // deliveries are not the engine's timers
  }

  /** Runs every timer and delivery due up to `untilMs`, in time order. */
  runUntil(untilMs: number): void {
    for (;;) {
      let next: VirtualTimer | undefined;
      for (const t of this.#timers) {
        if (!next || t.atMs < next.atMs || (t.atMs === next.atMs && t.seq < next.seq)) next = t;
      }
      if (!next || next.atMs > untilMs) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.run();
    }
    this.nowMs = untilMs;
  }
}

/** One host of a VirtualNetwork with its engine and what the engine reported. */
export class VirtualHost {
  readonly address: string;
  readonly engine: BfdEngine;
  readonly transitions: BfdTransition[] = [];
  readonly receiversOpened: string[] = [];
  readonly logs: { level: string; msg: string; obj: object }[] = [];
  onTransition: (t: BfdTransition) => void = () => {};

  constructor(net: VirtualNetwork, address: string, failOpens: number) {
    this.address = address;
    const io = net.io(address, { failOpens, onReceiver: (at) => this.receiversOpened.push(at) });
    const log = (level: string) => (obj: object, msg: string) => this.logs.push({ level, msg, obj });
    this.engine = new BfdEngine({
      io,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      onTransition: (t) => {
        this.transitions.push(t);
        this.onTransition(t);
      },
    });
  }

  /** The state of the session `key`, or undefined when it does not run. */
  state(key: string): string | undefined {
    return this.engine.snapshot().sessions.find((s) => s.key === key)?.state;
  }
}
