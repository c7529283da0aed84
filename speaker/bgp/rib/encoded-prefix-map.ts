import { MAX_PREFIX_NLRI_OCTETS, writePrefixNlri } from '../codec/index.ts';

/**
 * A desired set (prefix → value) that also holds the NLRI encoding (RFC 4271 §4.3) of each of
 * its prefixes, one after the other in insertion order: `addPrefixList` parses every prefix to
 * check it anyway, straight into these encodings, so `RibOut` copies octets instead of parsing
 * the text a second time.
 *
 * Invariant: while `nlri` is defined, it is exactly the encodings of the keys in iteration
 * order. Adding a prefix other than by `addText` / `addEncoded`, deleting or clearing drops the
 * encodings for good (`nlri` is then undefined and RibOut parses the keys); changing the value
 * of a prefix keeps them (a Map keeps a key's place).
 */
export class EncodedPrefixMap<V> extends Map<string, V> {
  // Private fields are read once per call into locals: each read is a slow keyed load in V8's
  // interpreter.
  #buffer = new Uint8Array(1024);
  #used = 0;
  #valid = true;

  /**
   * Empty: entries come by `addText` / `addEncoded`. Map's entries argument is kept out of the
   * type because Map's constructor would call the overridden `set` before the private fields
   * exist, which throws.
   */
  // biome-ignore lint/complexity/noUselessConstructor: it narrows Map's signature to no arguments (see above)
  constructor() {
    super();
  }

  /**
   * Adds the prefix spelled by `text[start, end)` when `writePrefixNlri` takes its spelling,
   * parsed straight into the encodings; false, with nothing added, when it does not (the
   * caller then checks the text with `parsePrefix` and uses `addEncoded`).
   */
  addText(text: string, start: number, end: number, value: V): boolean {
    const used = this.#used;
    const buffer = this.#room(used, MAX_PREFIX_NLRI_OCTETS);
    const octets = writePrefixNlri(text, start, end, buffer, used);
    if (octets < 0) return false;
    const size = this.size;
    super.set(text.slice(start, end), value);
    if (this.size !== size && this.#valid) this.#used = used + octets;
    return true;
  }

  /** Adds `prefix` with its encoding `nlri`; a prefix already here keeps its place. */
  addEncoded(prefix: string, value: V, nlri: Uint8Array): void {
    const size = this.size;
    super.set(prefix, value);
    if (this.size === size || !this.#valid) return;
    const used = this.#used;
    this.#room(used, nlri.length).set(nlri, used);
    this.#used = used + nlri.length;
  }

  /**
   * The same prefixes in the same order, and their encodings, each value replaced by
   * `replace(value)` (see {@link mapRouteValues}).
   */
  mapValues<W>(replace: (value: V) => W): EncodedPrefixMap<W> {
    const out = new EncodedPrefixMap<W>();
    this.forEach((value, prefix) => {
      out.#put(prefix, replace(value));
    });
    if (this.#valid) {
      out.#buffer = this.#buffer.slice(0, this.#used);
      out.#used = this.#used;
    } else {
      out.#drop();
    }
    return out;
  }

  /** The encodings of the keys in iteration order, or undefined once they were dropped. */
  get nlri(): Uint8Array | undefined {
    return this.#valid ? this.#buffer.subarray(0, this.#used) : undefined;
  }

  override set(prefix: string, value: V): this {
    if (!this.has(prefix)) this.#drop();
    return super.set(prefix, value);
  }

  override delete(prefix: string): boolean {
    const deleted = super.delete(prefix);
    if (deleted) this.#drop();
    return deleted;
  }

  override clear(): void {
    this.#drop();
    super.clear();
  }

  /** A Map set that leaves the encodings alone (the caller keeps them matching). */
  #put(prefix: string, value: V): void {
    super.set(prefix, value);
  }

  /** The buffer, with at least `octets` free from `used` on. */
  #room(used: number, octets: number): Uint8Array {
    const buffer = this.#buffer;
    if (used + octets <= buffer.length) return buffer;
    const grown = new Uint8Array(2 * buffer.length + octets);
    grown.set(buffer.subarray(0, used));
    this.#buffer = grown;
    return grown;
  }

  /** The encodings no longer match the keys: they are not kept up any more. */
  #drop(): void {
    this.#valid = false;
    this.#buffer = new Uint8Array(MAX_PREFIX_NLRI_OCTETS);
    this.#used = 0;
  }
}

/**
 * `desired` with each value replaced: `replace` runs once per distinct value (compared by
 * identity), so prefixes that shared an attributes object share its replacement and the
 * RIB-out computes its key once, not per prefix. An {@link EncodedPrefixMap} keeps its
 * encodings. Graceful shutdown re-advertises every route this way (RFC 8326).
 */
export function mapRouteValues<V, W>(
  desired: ReadonlyMap<string, V>,
  replace: (value: V) => W,
): Map<string, W> {
  const replaced = new Map<V, W>(); // value -> its replacement
  const once = (value: V): W => {
    let w = replaced.get(value);
    if (w === undefined && !replaced.has(value)) {
      w = replace(value);
      replaced.set(value, w);
    }
    return w as W;
  };
  if (desired instanceof EncodedPrefixMap) return (desired as EncodedPrefixMap<V>).mapValues(once);
  const out = new Map<string, W>();
  desired.forEach((value, prefix) => {
    out.set(prefix, once(value));
  });
  return out;
}
