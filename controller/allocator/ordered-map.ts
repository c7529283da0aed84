/**
 * A sorted map from bigint keys to values: a treap (binary search tree ordered by key, heap
 * ordered by a per-node priority). Insert, delete, floor and ceiling are O(log n) expected.
 *
 * Priorities come from a small xorshift generator seeded per instance, so the shape is
 * deterministic (no Math.random) yet independent of the key order, which keeps the tree
 * balanced in expectation even when keys arrive sorted (the usual case for IP addresses).
 */

interface TreapNode<V> {
  key: bigint;
  value: V;
  priority: number;
  left: TreapNode<V> | undefined;
  right: TreapNode<V> | undefined;
}

/** An entry of an {@link OrderedMap}. */
export interface Entry<V> {
  readonly key: bigint;
  readonly value: V;
}

/** Sorted bigint-keyed map with floor / ceiling queries. */
export class OrderedMap<V> {
  #root: TreapNode<V> | undefined;
  #size = 0;
  #seed: number;

  constructor(seed = 0x9e3779b9) {
    this.#seed = seed | 1;
  }

  get size(): number {
    return this.#size;
  }

  #nextPriority(): number {
    // xorshift32: deterministic, cheap, good enough for treap balance.
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x | 0;
    return x >>> 0;
  }

  get(key: bigint): V | undefined {
    let node = this.#root;
    while (node) {
      if (key === node.key) return node.value;
      node = key < node.key ? node.left : node.right;
    }
    return undefined;
  }

  has(key: bigint): boolean {
    let node = this.#root;
    while (node) {
      if (key === node.key) return true;
      node = key < node.key ? node.left : node.right;
    }
    return false;
  }

  /** Inserts or replaces the value at `key`. */
  set(key: bigint, value: V): void {
    let node = this.#root;
    while (node) {
      if (key === node.key) {
        node.value = value;
        return;
      }
      node = key < node.key ? node.left : node.right;
    }
    const [left, right] = split(this.#root, key);
    const fresh: TreapNode<V> = {
      key,
      value,
      priority: this.#nextPriority(),
      left: undefined,
      right: undefined,
    };
    this.#root = merge(merge(left, fresh), right);
    this.#size++;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: bigint): boolean {
    let parent: TreapNode<V> | undefined;
    let node = this.#root;
    while (node && node.key !== key) {
      parent = node;
      node = key < node.key ? node.left : node.right;
    }
    if (!node) return false;
    const joined = merge(node.left, node.right);
    if (!parent) this.#root = joined;
    else if (parent.left === node) parent.left = joined;
    else parent.right = joined;
    this.#size--;
    return true;
  }

  /** The entry with the greatest key <= `key`. */
  floor(key: bigint): Entry<V> | undefined {
    return this.#nearest(key, true);
  }

  /** The entry with the smallest key >= `key`. */
  ceiling(key: bigint): Entry<V> | undefined {
    return this.#nearest(key, false);
  }

  /** The entry at `key`, else the closest one below it (`below`) or above it. */
  #nearest(key: bigint, below: boolean): Entry<V> | undefined {
    let node = this.#root;
    let best: TreapNode<V> | undefined;
    while (node) {
      if (node.key === key) return node;
      const smaller = node.key < key;
      if (smaller === below) best = node;
      node = smaller ? node.right : node.left;
    }
    return best;
  }

  /** The entry with the smallest key. */
  first(): Entry<V> | undefined {
    let node = this.#root;
    while (node?.left) node = node.left;
    return node;
  }

  /** All entries in key order (for tests and diagnostics; O(n)). */
  *entries(): IterableIterator<Entry<V>> {
    const stack: TreapNode<V>[] = [];
    let node = this.#root;
    while (node || stack.length > 0) {
      while (node) {
        stack.push(node);
        node = node.left;
      }
      const top = stack.pop()!;
      yield top;
      node = top.right;
    }
  }
}

/** Splits into keys < key and keys > key (the key itself is known absent). */
function split<V>(
  node: TreapNode<V> | undefined,
  key: bigint,
): [TreapNode<V> | undefined, TreapNode<V> | undefined] {
  if (!node) return [undefined, undefined];
  if (node.key < key) {
    const [l, r] = split(node.right, key);
    node.right = l;
    return [node, r];
  }
  const [l, r] = split(node.left, key);
  node.left = r;
  return [l, node];
}

/** Joins two treaps where every key of `a` is below every key of `b`. */
function merge<V>(a: TreapNode<V> | undefined, b: TreapNode<V> | undefined): TreapNode<V> | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    return a;
  }
  b.left = merge(a, b.left);
  return b;
}
