import { type NetworkPart, startNetworkPart } from '../../network-thread/thread.ts';
import type { ActiveAnnouncement, CounterRow, FromWorker, LoopWork, ToWorker } from '../engine/messages.ts';

type Request = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

/** A request the packet worker refused (`code` as in system errors, e.g. EPERM). */
export class TransportError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}

/**
 * The main thread's handle on the packet worker (speaker/l2/io/worker.ts, on the speaker's
 * network thread): requests with replies, worker events to a callback, and a clean stop.
 */
export class L2Transport {
  readonly #part: NetworkPart;
  #nextId = 1;
  /** request id → its settle functions. */
  readonly #pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  #exited = false;
  #stopped: Promise<void> | undefined;

  constructor(options: {
    onEvent: (event: Extract<FromWorker, { type: 'event' }>) => void;
    /** The worker is gone without stop(): its thread died (with its error) or it quit. */
    onExit: (error?: Error) => void;
    /** The network thread's SCHED_FIFO priority (0 or absent: none; speaker/network-thread/scheduling.ts). */
    priority?: number;
  }) {
    this.#part = startNetworkPart({ part: 'l2', priority: options.priority ?? 0 }, (error) => {
      this.#exited = true;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      options.onExit(error);
    });
    this.#part.port.on('message', (message: FromWorker) => {
      if (message.type === 'event') {
        options.onEvent(message);
        return;
      }
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.type === 'done' && message.error) {
        pending.reject(new TransportError(message.error.message, message.error.code));
      } else pending.resolve(message);
    });
  }

  /** Sends a request and waits for the worker's answer. */
  request(message: Request): Promise<FromWorker> {
    if (this.#exited) return Promise.reject(new Error('the L2 packet worker is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#part.port.postMessage({ ...message, id } as ToWorker);
    });
  }

  /** Counters and the current announcements, straight from the worker. */
  async snapshot(): Promise<{ counters: CounterRow[]; active: ActiveAnnouncement[] }> {
    const reply = await this.request({ type: 'counters' });
    if (reply.type !== 'counters') throw new Error('unexpected reply to a counters request');
    return { counters: reply.counters, active: reply.active };
  }

  /** The network thread's loop iterations; the longest is since the previous call. */
  async loopWork(): Promise<LoopWork | undefined> {
    const reply = await this.request({ type: 'loop-work' });
    if (reply.type !== 'loop-work') throw new Error('unexpected reply to a loop-work request');
    return reply.work;
  }

  /** Stops answering everywhere, closes the sockets and lets go of the worker. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (this.#exited) return;
      try {
        await this.request({ type: 'stop' });
      } finally {
        this.#exited = true;
        await this.#part.release();
      }
    })();
    return this.#stopped;
  }
}
