import { Worker } from 'node:worker_threads';
import { entryUrl } from '../../shared/runtime/entry-url.ts';
import type { ActiveAnnouncement, CounterRow, FromWorker, ToWorker } from './messages.ts';

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
 * The main thread's handle on the packet worker (speaker/l2/worker.ts): requests with
 * replies, worker events to a callback, and a clean stop.
 */
export class L2Transport {
  readonly #worker: Worker;
  #nextId = 1;
  /** request id → its settle functions. */
  readonly #pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  #exited = false;

  constructor(options: {
    onEvent: (event: Extract<FromWorker, { type: 'event' }>) => void;
    onExit: (error?: Error) => void;
  }) {
    this.#worker = new Worker(entryUrl(import.meta.url, './worker.ts', './l2-worker.mjs'), {
      name: 'metalbeacon-l2',
    });
    this.#worker.on('message', (message: FromWorker) => {
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
    let failure: Error | undefined;
    this.#worker.on('error', (error) => {
      failure = error;
    });
    this.#worker.on('exit', () => {
      this.#exited = true;
      const error = failure ?? new Error('the L2 packet worker exited');
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      options.onExit(failure);
    });
  }

  /** Sends a request and waits for the worker's answer. */
  request(message: Request): Promise<FromWorker> {
    if (this.#exited) return Promise.reject(new Error('the L2 packet worker is not running'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  /** Counters and the current announcements, straight from the worker. */
  async snapshot(): Promise<{ counters: CounterRow[]; active: ActiveAnnouncement[] }> {
    const reply = await this.request({ type: 'counters' });
    if (reply.type !== 'counters') throw new Error('unexpected reply to a counters request');
    return { counters: reply.counters, active: reply.active };
  }

  /** Stops answering everywhere, closes the sockets and ends the worker. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    try {
      await this.request({ type: 'stop' });
    } finally {
      await this.#worker.terminate();
    }
  }
}
