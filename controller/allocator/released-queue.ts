/**
 * Released addresses of one pool and family, oldest release first. A plain array with a head
 * index (O(1) push and shift) plus a map for membership, so an address taken from the middle
 * (a Service requested it) is removed in O(1) and skipped lazily. A JS Map alone would do, but
 * V8 walks deleted slots when asked for its first key, which makes a FIFO over it quadratic.
 */
export class ReleasedQueue {
  #values: bigint[] = [];
  #sequences: number[] = [];
  #head = 0;
  /** address -> release sequence number of its live entry */
  readonly #live = new Map<bigint, number>();

  get size(): number {
    return this.#live.size;
  }

  has(value: bigint): boolean {
    return this.#live.has(value);
  }

  /** Array slots held, live and stale: what the memory of the queue is proportional to. */
  get slots(): number {
    return this.#values.length;
  }

  push(value: bigint, sequence: number): void {
    this.#live.set(value, sequence);
    this.#values.push(value);
    this.#sequences.push(sequence);
    // Deletes from the middle (a Service asking for a released address by name) leave stale
    // slots the head may never reach while the pool has untouched addresses: rebuild from the
    // live entries once stale slots outnumber them, so the slots stay under 2 x live + 1024.
    if (this.#values.length > 2 * this.#live.size + 1024) this.#rebuild();
  }

  delete(value: bigint): boolean {
    return this.#live.delete(value);
  }

  /** Removes and returns the oldest address. */
  shift(): bigint | undefined {
    for (const value of this.#liveFromHead(true)) return value;
    return undefined;
  }

  /** Live addresses, oldest first (stale slots are skipped). */
  *values(): IterableIterator<bigint> {
    yield* this.#liveFromHead(false);
  }

  /** Live entries with their sequence numbers, oldest first. */
  *entries(): IterableIterator<[bigint, number]> {
    for (let i = this.#head; i < this.#values.length; i++) {
      const value = this.#values[i]!;
      const sequence = this.#sequences[i]!;
      if (this.#live.get(value) === sequence) yield [value, sequence];
    }
  }

  *#liveFromHead(take: boolean): IterableIterator<bigint> {
    // Drop stale slots at the head for good; look past live ones without consuming them.
    while (this.#head < this.#values.length) {
      const value = this.#values[this.#head]!;
      if (this.#live.get(value) === this.#sequences[this.#head]) break;
      this.#head++;
    }
    this.#compact();
    for (let i = this.#head; i < this.#values.length; i++) {
      const value = this.#values[i]!;
      if (this.#live.get(value) !== this.#sequences[i]) continue;
      if (take) {
        this.#live.delete(value);
        this.#head = i + 1;
      }
      yield value;
      if (take) return;
    }
  }

  #rebuild(): void {
    const live = [...this.entries()];
    this.#values = live.map(([value]) => value);
    this.#sequences = live.map(([, sequence]) => sequence);
    this.#head = 0;
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#values.length) {
      this.#values = this.#values.slice(this.#head);
      this.#sequences = this.#sequences.slice(this.#head);
      this.#head = 0;
    }
  }
}
