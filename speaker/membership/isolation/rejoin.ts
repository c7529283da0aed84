/**
 * Remembers the peers this speaker saw fail, to tell when one comes back. While a peer looked
 * dead to us, we looked dead to it too (a link flap cuts both ways), so it may have taken over
 * and announced our IPs; clients follow the last announcement, so on its return we announce
 * ours again. A peer that left (SIGTERM) announced nothing of ours and is forgotten.
 */
export class RejoinTracker {
  readonly #failed = new Set<string>();

  failed(peer: string): void {
    this.#failed.add(peer);
  }

  left(peer: string): void {
    this.#failed.delete(peer);
  }

  /** The alive set changed: the peers among it that had failed, now forgotten. */
  alive(alive: readonly string[]): string[] {
    const back = alive.filter((peer) => this.#failed.has(peer));
    for (const peer of back) this.#failed.delete(peer);
    return back;
  }
}
