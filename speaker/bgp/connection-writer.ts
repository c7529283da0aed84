import type { Socket } from 'node:net';
import { SendProgress } from './fsm/index.ts';
import { OutputQueue } from './rib/index.ts';

/** Milliseconds a closing socket gets to flush its last NOTIFICATION. */
const CLOSE_GRACE_MS = 1000;

/** Largest write handed to the socket at once: one extended message (RFC 8654). */
const BATCH_BYTES = 65_535;

export interface ConnectionWriterOptions {
  /** Octets this connection may hold (queued here plus in the socket) before a push is refused. */
  readonly budgetBytes: number;
  /** The queue ran dry and the socket has room: the session may produce its pending UPDATEs. */
  readonly onIdle: () => void;
  /** Nothing acknowledged for the send hold time while output waits (RFC 9687): the peer is not reading. */
  readonly onSendHoldExpired: () => void;
  /** Runs a socket or timer callback so that a throw resets the session instead of escaping. */
  readonly guard: (what: string, fn: () => void) => void;
}

/**
 * The output side of one BGP connection (thin shell over {@link OutputQueue} and
 * {@link SendProgress}): hands batches to the socket only while `write()` says it has room and
 * waits for 'drain' otherwise, so what a slow or stalled peer makes us hold is bounded by the
 * budget, not by what we were asked to send. Once the send hold time is set, a tick checks
 * whether the peer acknowledges what waits for it (in our queue, node's buffer or the kernel's).
 */
export class ConnectionWriter {
  private readonly socket: Socket;
  private readonly options: ConnectionWriterOptions;
  private readonly queue: OutputQueue;
  private waitingDrain = false;
  private pumping = false;
  private finished = false;
  private sendHoldTick: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: ConnectionWriterOptions) {
    this.socket = socket;
    this.options = options;
    this.queue = new OutputQueue({ budgetBytes: options.budgetBytes, batchBytes: BATCH_BYTES });
    socket.on('drain', () =>
      options.guard('socket drain', () => {
        this.waitingDrain = false;
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

  /**
   * Starts enforcing the send hold time (once Established: before, the output is a few octets).
   * `kernelQueuedBytes` reads the kernel's unacknowledged octets (SIOCOUTQ, native addon);
   * without it only node's own buffer moving counts as progress.
   */
  setSendHold(ms: number, kernelQueuedBytes?: () => number): void {
    this.stopSendHold();
    const progress = new SendProgress(ms);
    const check = () => {
      if (this.finished || this.socket.destroyed) return;
      const expired = progress.observe(Date.now(), {
        // Completed writes are in the kernel; what node still holds is waiting.
        handedBytes: this.socket.bytesWritten - this.socket.writableLength,
        kernelQueuedBytes: kernelQueuedBytes?.() ?? 0,
        waitingBytes: this.outstandingBytes,
      });
      if (expired) {
        this.stopSendHold();
        this.options.onSendHoldExpired();
      }
    };
    check();
    this.sendHoldTick = setInterval(
      () => this.options.guard('send hold timer', check),
      Math.max(100, Math.min(1000, Math.floor(ms / 3))),
    );
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
        if (!this.socket.write(batch)) this.waitingDrain = true;
      }
    } finally {
      this.pumping = false;
    }
  }

  private stopSendHold(): void {
    clearInterval(this.sendHoldTick);
    this.sendHoldTick = undefined;
  }
}
