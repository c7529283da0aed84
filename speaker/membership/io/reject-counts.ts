import { REJECT_REASONS, type RejectReason } from '../codec/codec.ts';

/** Dropped datagrams per reason; a partial record leaves out the reasons with none. */
export type RejectCounts = Partial<Record<RejectReason, number>>;

/**
 * Counts dropped datagrams on the thread that drops them, so that a flood costs an increment
 * per datagram and the metrics see one batch per flush, never a message per datagram.
 */
export class RejectCounter {
  readonly #total = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));
  readonly #flushed = new Map<RejectReason, number>(REJECT_REASONS.map((reason) => [reason, 0]));

  add(reason: RejectReason): void {
    this.#total.set(reason, (this.#total.get(reason) ?? 0) + 1);
  }

  /** Everything counted since start. */
  totals(): RejectCounts {
    return Object.fromEntries([...this.#total].filter(([, n]) => n > 0));
  }

  /** What was counted since the last call; undefined when nothing was. */
  sinceLastFlush(): RejectCounts | undefined {
    const batch: RejectCounts = {};
    let any = false;
    for (const [reason, total] of this.#total) {
      const delta = total - (this.#flushed.get(reason) ?? 0);
      if (delta === 0) continue;
      batch[reason] = delta;
      this.#flushed.set(reason, total);
      any = true;
    }
    return any ? batch : undefined;
  }
}
