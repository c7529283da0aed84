import { type BfdTransition, clientSignal } from '../engine/index.ts';
import type { Bfd } from './bfd.ts';

/** What a BGP session offers BFD (speaker/bgp/session.ts BgpSession fits). */
export interface BfdClient {
  /** The path failed: reset now (Cease / BFD Down, RFC 9384) and wait for bfdUp(). */
  bfdDown(details?: object): void;
  /** The path is up again. */
  bfdUp(): void;
}

/**
 * BFD drives BGP (RFC 5882): each transition of a BFD session reaches the BGP session bound to
 * the same key: a path failure (Up → Down, not the peer's AdminDown) resets it, Up releases it.
 * Transitions of keys with nothing bound are ignored.
 */
export class BfdBgpBinding {
  /** BFD session key → the BGP session it protects */
  readonly #clients = new Map<string, BfdClient>();

  constructor(bfd: Bfd) {
    bfd.on('transition', (t) => this.#deliver(t));
  }

  bind(key: string, client: BfdClient): void {
    this.#clients.set(key, client);
  }

  unbind(key: string, client?: BfdClient): void {
    if (client === undefined || this.#clients.get(key) === client) this.#clients.delete(key);
  }

  #deliver(t: BfdTransition): void {
    const client = this.#clients.get(t.key);
    if (!client) return;
    const signal = clientSignal(t);
    if (signal === 'down') client.bfdDown({ bfdDiag: t.diagName, bfdRemoteState: t.remoteState });
    else if (signal === 'up') client.bfdUp();
  }
}
