import type { Socket } from 'node:net';
import { OutputQueue } from './output-queue.ts';

/** Milliseconds a closing socket gets to flush its last NOTIFICATION. */
const CLOSE_GRACE_MS = 1000;

/** Largest write handed to the socket at once: one extended message (RFC 8654). */
const BATCH_BYTES = 65_535;

export interface ConnectionWriterOptions {
  /** Octets this connection may hold (queued here plus in the socket) before a push is refused. */
  readonly budgetBytes: number;
  /** The queue ran dry and the socket has room: the session may produce its pending UPDATEs. */
  readonly onIdle: () => void;
  /** The output has not moved for the send hold time (RFC 9687): the peer is not reading. */
  readonly onSendHoldExpired: () => void;
  /** Runs a socket or timer callback so that a throw resets the session instead of escaping. */
  readonly guard: (what: string, fn: () => void) => void;
}

/**
 * The output side of one BGP connection (thin shell over {@link OutputQueue}): hands batches to
 * the socket only while `write()` says it has room and waits for 'drain' otherwise, so what a
 * slow or stalled peer makes us hold is bounded by the budget, not by what we were asked to
 * send. While the socket makes us wait, the send hold timer runs; every 'drain' restarts it.
 */
export class ConnectionWriter {
  private readonly socket: Socket;
  private readonly options: ConnectionWriterOptions;
  private readonly queue: OutputQueue;
  private waitingDrain = false;
  private pumping = false;
  private finished = false;
  private sendHoldMs: number | undefined;
  private sendHoldTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: ConnectionWriterOptions) {
    this.socket = socket;
    this.options = options;
    this.queue = new OutputQueue({ budgetBytes: options.budgetBytes, batchBytes: BATCH_BYTES });
    socket.on('drain', () =>
      options.guard('socket drain', () => {
        this.waitingDrain = false;
        this.stopSendHold();
        this.pump();
      }),
    );
  }

  /** Octets handed to this connection and not yet taken by the kernel. */
  get outstandingBytes(): number {
    return this.queue.queuedBytes + this.socket.writableLength;
  }

  /** Output is waiting: queued here, or the socket asked us to wait for 'drain'. */
  get busy(): boolean {
    return this.waitingDrain || !this.queue.isEmpty;
  }

  /** Starts enforcing the send hold time (once Established: before, the output is a few octets). */
  setSendHold(ms: number): void {
    this.sendHoldMs = ms;
    if (this.waitingDrain) this.startSendHold();
  }

  /**
   * Queues whole messages and writes what the socket takes. False, with nothing queued, when
   * they do not fit the budget: the caller resets the session.
   */
  enqueue(messages: readonly Uint8Array[]): boolean {
    if (this.finished || this.socket.destroyed) return true;
    if (!this.queue.push(messages, this.socket.writableLength)) return false;
    this.pump();
    return true;
  }

  /** Lets the session produce pending work now if the output is idle. */
  kick(): void {
    this.pump();
  }

  /**
   * Ends the connection: what is queued is dropped, `last` (a NOTIFICATION) is written past it,
   * then FIN; the socket is destroyed if it has not closed after a grace period.
   */
  finish(last?: Uint8Array): void {
    if (this.finished) return;
    this.finished = true;
    this.queue.clear();
    this.stopSendHold();
    if (this.socket.destroyed) return;
    if (last) this.socket.write(last);
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  /** Stops the timers (the socket is gone). */
  dispose(): void {
    this.finished = true;
    this.queue.clear();
    this.stopSendHold();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.waitingDrain && !this.finished && !this.socket.destroyed) {
        const batch = this.queue.takeBatch();
        if (batch === undefined) {
          this.options.onIdle();
          if (this.queue.isEmpty) break;
          continue;
        }
        if (!this.socket.write(batch)) {
          this.waitingDrain = true;
          this.startSendHold();
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private startSendHold(): void {
    if (this.sendHoldMs === undefined || this.sendHoldTimer !== undefined) return;
    this.sendHoldTimer = setTimeout(() => {
      this.sendHoldTimer = undefined;
      this.options.guard('send hold timer', () => {
        if (this.waitingDrain && !this.finished) this.options.onSendHoldExpired();
      });
    }, this.sendHoldMs);
  }

  private stopSendHold(): void {
    clearTimeout(this.sendHoldTimer);
    this.sendHoldTimer = undefined;
  }
}
