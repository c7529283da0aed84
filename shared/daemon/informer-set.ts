import type { InformerVerb } from '../k8s/informer.ts';
import type { Logger } from '../log/logger.ts';
import { systemTimers, type TimerHandle, type Timers } from './timers.ts';

/** What the set needs of an informer to run it (shared/k8s/informer.ts's Informer is one). */
export interface ListWatch {
  on(verb: 'error', callback: (error: unknown) => void): void;
  /** Lists then watches; resolves after the first LIST, also when it failed (see hasSynced). */
  start(): Promise<void>;
  stop(): void;
  /** A LIST has filled the cache at least once. */
  readonly hasSynced: boolean;
}

/** An informer of objects T, whose changes the set passes on. */
export interface SetMember<T> extends ListWatch {
  on(verb: InformerVerb, callback: (object: T) => void): void;
  on(verb: 'error', callback: (error: unknown) => void): void;
}

export interface InformerSetOptions {
  readonly log: Logger;
  /**
   * While true, no change is passed on and no informer restarts: the owner is shutting down
   * (it may say so before it gets to `stop()`). Default: only `stop()` ends them.
   */
  readonly stopping?: () => boolean;
  /** Pause before restarting an informer that failed. */
  readonly restartDelayMs?: number;
  readonly timers?: Timers;
}

interface Member {
  readonly name: string;
  readonly informer: ListWatch;
  /** Resolves when the informer's first LIST succeeded. */
  readonly listed: Promise<void>;
  readonly markListed: () => void;
  /** The pending restart after a failure. */
  restart: TimerHandle | undefined;
}

/**
 * The informers of one program, started and stopped together. An informer stops on any failure
 * but 410 Gone (shared/k8s/informer.ts); the set restarts it after a pause, for as long as the
 * program runs. `start()` resolves only once every informer's first LIST has succeeded, retrying
 * failed ones, so that nothing acts on a cache that never synced: an empty cache would read as
 * "no Services", "no speakers". Changes reach the callbacks only once the set is synced.
 */
export class InformerSet {
  readonly #options: InformerSetOptions;
  readonly #timers: Timers;
  readonly #members: Member[] = [];
  #synced = false;
  #stopped = false;
  #onStop: () => void = () => {};

  constructor(options: InformerSetOptions) {
    this.#options = options;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Adds an informer (before `start()`); returns it. `name` is for logs. */
  add<I extends ListWatch>(name: string, informer: I): I {
    let markListed: () => void = () => {};
    const listed = new Promise<void>((resolve) => {
      markListed = resolve;
    });
    const member: Member = { name, informer, listed, markListed, restart: undefined };
    this.#members.push(member);
    informer.on('error', (error) => {
      if (this.#quiet()) return;
      const restartMs = this.#options.restartDelayMs ?? 1000;
      this.#options.log.warn(
        { informer: name, err: firstLine(error), listed: informer.hasSynced, restartMs },
        informer.hasSynced ? 'watch failed; relisting' : 'list failed; trying again',
      );
      if (member.restart !== undefined) this.#timers.clearTimeout(member.restart);
      member.restart = this.#timers.setTimeout(() => {
        member.restart = undefined;
        void this.#startMember(member);
      }, restartMs);
    });
    return informer;
  }

  /** Calls `onChange` for every add, update and delete of `informer` once the set is synced. */
  onChange<T>(informer: SetMember<T>, onChange: (object: T) => void): void {
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (object) => {
        if (this.#synced && !this.#quiet()) onChange(object);
      });
    }
  }

  /** Every informer has listed once, and the set has been started. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Names of the informers whose first LIST has not succeeded yet (for logs and readiness). */
  get unsynced(): string[] {
    return this.#members.filter((m) => !m.informer.hasSynced).map((m) => m.name);
  }

  /**
   * Starts every informer; resolves once each has listed (failed LISTs are retried meanwhile).
   * Rejects if `stop()` comes first.
   */
  async start(): Promise<void> {
    const stopped = new Promise<never>((_, reject) => {
      this.#onStop = () => reject(new Error(`stopped before ${this.unsynced.join(', ')} listed`));
    });
    await Promise.race([
      stopped,
      Promise.all(
        this.#members.map(async (member) => {
          await this.#startMember(member);
          await member.listed;
        }),
      ),
    ]);
    if (!this.#stopped) this.#synced = true;
  }

  /** Stops every informer and every pending restart. */
  stop(): void {
    this.#stopped = true;
    this.#onStop();
    for (const member of this.#members) {
      if (member.restart !== undefined) this.#timers.clearTimeout(member.restart);
      member.restart = undefined;
      member.informer.stop();
    }
  }

  #quiet(): boolean {
    return this.#stopped || (this.#options.stopping?.() ?? false);
  }

  async #startMember(member: Member): Promise<void> {
    if (this.#quiet()) return;
    await member.informer.start();
    if (member.informer.hasSynced) member.markListed();
  }
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}
