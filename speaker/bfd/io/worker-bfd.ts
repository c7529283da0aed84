import { EventEmitter } from 'node:events';
import { type NetworkPart, startNetworkPart } from '../../network-thread/thread.ts';
import {
  type BfdLogger,
  type BfdSessionSpec,
  type BfdSnapshot,
  checkSpec,
  type FromBfdWorker,
  type ToBfdWorker,
} from '../engine/index.ts';
import type { Bfd, BfdEvents } from './bfd.ts';

/**
 * BFD on the speaker's network thread (worker-part.ts): what `metalbeacon speaker` and
 * `metalbeacon bgp --bfd` use, so that a busy main thread neither delays our packets nor the
 * detection of a silent peer. Transitions arrive as events in order; logs go to the caller's
 * logger. 'error' when the thread dies.
 */
export class WorkerBfd extends EventEmitter<BfdEvents> implements Bfd {
  readonly #part: NetworkPart;
  readonly #log: BfdLogger | undefined;
  /** snapshot request id → its resolver */
  readonly #pending = new Map<number, { resolve: (s: BfdSnapshot) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #ended: Error | undefined;
  #closing: Promise<void> | undefined;
  #markClosed: () => void = () => {};

  constructor(options: { logger?: BfdLogger } = {}) {
    super();
    this.#log = options.logger;
    this.#part = startNetworkPart({ part: 'bfd' }, (error) => this.#gone(error));
    this.#part.port.on('message', (message: FromBfdWorker) => this.#receive(message));
  }

  setSessions(specs: readonly BfdSessionSpec[]): string[] {
    // Checked here too, so the caller gets the problems at once, as from LocalBfd.
    const problems = specs.flatMap((s) => {
      const checked = checkSpec(s);
      return 'problems' in checked ? checked.problems : [];
    });
    this.#post({ type: 'set-sessions', specs: specs.map((s) => ({ ...s, timers: { ...s.timers } })) });
    return problems;
  }

  snapshot(): Promise<BfdSnapshot> {
    if (this.#ended) return Promise.reject(new Error(`BFD is not running: ${this.#ended.message}`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ type: 'snapshot', id });
    });
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (this.#ended) {
        resolve();
        return;
      }
      this.#markClosed = () => {
        void this.#part.release().then(resolve, resolve);
      };
      this.#post({ type: 'close' });
    });
    return this.#closing;
  }

  #post(message: ToBfdWorker): void {
    if (!this.#ended) this.#part.port.postMessage(message);
  }

  #receive(message: FromBfdWorker): void {
    switch (message.type) {
      case 'transition':
        this.emit('transition', message.transition);
        return;
      case 'snapshot': {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve(message.snapshot);
        return;
      }
      case 'log':
        this.#log?.[message.level](message.obj, message.msg);
        return;
      case 'closed':
        this.#ended = new Error('closed');
        this.#rejectPending(this.#ended);
        this.#markClosed();
        return;
    }
  }

  /** The thread died (or closed the part unasked): nothing runs any more. */
  #gone(error: Error): void {
    if (this.#ended) return;
    this.#ended = error;
    this.#rejectPending(error);
    this.#markClosed();
    this.emit('error', error);
  }

  #rejectPending(error: Error): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
