import { OrderedMap } from './ordered-map.ts';

/**
 * A set of bigints stored as disjoint, non-adjacent inclusive intervals (start -> end) in an
 * {@link OrderedMap}. Memory is O(number of fragments), not O(number of members), so "all of
 * 2001:db8::/64" is one entry. add, remove, has and firstAtOrAfter are O(log fragments).
 */
export class IntervalSet {
  readonly #intervals: OrderedMap<bigint>;

  constructor(seed?: number) {
    this.#intervals = new OrderedMap<bigint>(seed);
  }

  /** Number of fragments (for tests and memory accounting). */
  get fragments(): number {
    return this.#intervals.size;
  }

  has(value: bigint): boolean {
    const hit = this.#intervals.floor(value);
    return hit !== undefined && hit.value >= value;
  }

  /** Adds every value of [first, last] (first <= last). */
  addRange(first: bigint, last: bigint): void {
    let start = first;
    let end = last;
    // Absorb a fragment that overlaps or touches on the left.
    const left = this.#intervals.floor(start);
    if (left && left.value >= start - 1n) {
      start = left.key;
      if (left.value > end) end = left.value;
      this.#intervals.delete(left.key);
    }
    // Absorb every fragment starting inside or right after [start, end].
    for (;;) {
      const right = this.#intervals.ceiling(start);
      if (!right || right.key > end + 1n) break;
      if (right.value > end) end = right.value;
      this.#intervals.delete(right.key);
    }
    this.#intervals.set(start, end);
  }

  add(value: bigint): void {
    this.addRange(value, value);
  }

  /** Removes `value`; returns whether it was a member. */
  remove(value: bigint): boolean {
    const hit = this.#intervals.floor(value);
    if (!hit || hit.value < value) return false;
    const { key: start, value: end } = hit;
    if (start === value) {
      this.#intervals.delete(start);
      if (end > value) this.#intervals.set(value + 1n, end);
    } else {
      this.#intervals.set(start, value - 1n);
      if (end > value) this.#intervals.set(value + 1n, end);
    }
    return true;
  }

  /** The smallest member >= value, with the end of its fragment. */
  firstAtOrAfter(value: bigint): { value: bigint; fragmentEnd: bigint } | undefined {
    const hit = this.#intervals.floor(value);
    if (hit && hit.value >= value) return { value, fragmentEnd: hit.value };
    const next = this.#intervals.ceiling(value);
    return next ? { value: next.key, fragmentEnd: next.value } : undefined;
  }

  /** The fragments in order (for tests; O(n)). */
  *ranges(): IterableIterator<{ first: bigint; last: bigint }> {
    for (const entry of this.#intervals.entries()) yield { first: entry.key, last: entry.value };
  }
}
