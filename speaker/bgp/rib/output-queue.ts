/**
 * What a session has encoded for its peer and not yet handed to the socket, held within a byte
 * budget. Pure: the shell decides when to take a batch (only when the socket has drained), so
 * a peer that stops reading makes the queue stop moving, never grow past the budget.
 *
 * Invariants: `queuedBytes` is the sum of the lengths of the queued messages and never exceeds
 * `budgetBytes` minus what the caller says is still outstanding in the socket; messages leave
 * in the order they came, whole; a batch holds at least one message and, beyond the first,
 * no more than `batchBytes`.
 */
export class OutputQueue {
  readonly budgetBytes: number;
  readonly batchBytes: number;
  /** Queued messages from `head` on; the consumed front is dropped when it outgrows the rest. */
  private messages: Uint8Array[] = [];
  private head = 0;
  private bytes = 0;

  constructor(options: { budgetBytes: number; batchBytes: number }) {
    if (!(options.budgetBytes > 0) || !(options.batchBytes > 0)) {
      throw new RangeError('OutputQueue: budgetBytes and batchBytes must be positive');
    }
    this.budgetBytes = options.budgetBytes;
    this.batchBytes = options.batchBytes;
  }

  /** Octets queued here (not counting what the socket holds). */
  get queuedBytes(): number {
    return this.bytes;
  }

  get isEmpty(): boolean {
    return this.head === this.messages.length;
  }

  /**
   * Appends messages when they fit the budget together with what is queued and the
   * `outstandingBytes` the socket still holds; otherwise appends nothing and returns false.
   */
  push(messages: readonly Uint8Array[], outstandingBytes = 0): boolean {
    let added = 0;
    for (const m of messages) added += m.length;
    if (this.bytes + outstandingBytes + added > this.budgetBytes) return false;
    for (const m of messages) if (m.length > 0) this.messages.push(m);
    this.bytes += added;
    return true;
  }

  /**
   * Removes and returns the next batch as one buffer: whole messages, in order, up to
   * `batchBytes` (a single larger message goes alone). Undefined when empty.
   */
  takeBatch(): Uint8Array | undefined {
    if (this.isEmpty) return undefined;
    let end = this.head + 1;
    let size = this.messages[this.head]!.length;
    while (end < this.messages.length && size + this.messages[end]!.length <= this.batchBytes) {
      size += this.messages[end]!.length;
      end++;
    }
    let batch: Uint8Array;
    if (end === this.head + 1) {
      batch = this.messages[this.head]!;
    } else {
      batch = new Uint8Array(size);
      let at = 0;
      for (let i = this.head; i < end; i++) {
        batch.set(this.messages[i]!, at);
        at += this.messages[i]!.length;
      }
    }
    this.head = end;
    this.bytes -= size;
    this.compact();
    return batch;
  }

  /** Drops everything queued (the session is closing). */
  clear(): void {
    this.messages = [];
    this.head = 0;
    this.bytes = 0;
  }

  private compact(): void {
    if (this.head === this.messages.length) {
      this.messages = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }
}
