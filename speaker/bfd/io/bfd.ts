import { EventEmitter } from 'node:events';
import {
  BfdEngine,
  type BfdEngineIo,
  type BfdLogger,
  type BfdSessionSpec,
  type BfdSnapshot,
  type BfdTransition,
} from '../engine/index.ts';
import { nativeBfdIo } from './native-io.ts';

/** What a BFD runner tells its users. */
export interface BfdEvents {
  /** A session changed state (every change, in order). */
  transition: [transition: BfdTransition];
  /** Only from WorkerBfd, when the network thread dies; unhandled, it throws. */
  error: [error: Error];
}

/**
 * BFD sessions as their users see them, on this thread (LocalBfd) or on the speaker's network
 * thread (WorkerBfd): the hooks status, metrics, events and the BGP sessions use.
 */
export interface Bfd extends EventEmitter<BfdEvents> {
  /** Makes the running sessions those of `specs` (see BfdEngine.setSessions); returns the problems. */
  setSessions(specs: readonly BfdSessionSpec[]): string[];
  /** Every session's state and counters, and the drops no session is charged with. */
  snapshot(): Promise<BfdSnapshot>;
  /** Every session goes AdminDown and every socket closes. */
  close(): Promise<void>;
}

/**
 * BFD on the calling thread. The speaker runs WorkerBfd instead; this one serves tests and
 * tools that must show what a busy thread does to BFD.
 */
export class LocalBfd extends EventEmitter<BfdEvents> implements Bfd {
  readonly #engine: BfdEngine;

  constructor(options: { logger?: BfdLogger; io?: BfdEngineIo } = {}) {
    super();
    this.#engine = new BfdEngine({
      io: options.io ?? nativeBfdIo(),
      ...(options.logger ? { logger: options.logger } : {}),
      onTransition: (t) => this.emit('transition', t),
    });
  }

  setSessions(specs: readonly BfdSessionSpec[]): string[] {
    return this.#engine.setSessions(specs);
  }

  async snapshot(): Promise<BfdSnapshot> {
    return this.#engine.snapshot();
  }

  async close(): Promise<void> {
    this.#engine.close();
  }
}
