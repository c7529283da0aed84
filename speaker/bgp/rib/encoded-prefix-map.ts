/**
 * A desired set (prefix → value) that also holds the NLRI encoding (RFC 4271 §4.3) of each of
 * its prefixes, one after the other in insertion order: `addPrefixList` parses every prefix to
 * check it anyway, so `RibOut` copies those octets instead of parsing the text a second time.
 *
 * Invariant: while `nlri` is defined, it is exactly the encodings of the keys in iteration
 * order. Adding a prefix other than by `addEncoded`, deleting or clearing drops the encodings
 * for good (`nlri` is then undefined and RibOut parses the keys); changing the value of a
 * prefix keeps them (a Map keeps a key's place).
 */
export class EncodedPrefixMap<V> extends Map<string, V> {
  #nlri: Uint8Array | undefined = new Uint8Array(1024);
  #used = 0;

  /** Empty: entries come by `addEncoded` (a Map constructor's entries would skip the encodings). */
  constructor() {
    super();
  }

  /** Adds `prefix` whose encoding is `source[at, at + octets)`; a prefix already here keeps its place. */
  addEncoded(prefix: string, value: V, source: Uint8Array, at: number, octets: number): void {
    const size = this.size;
    super.set(prefix, value);
    const nlri = this.#nlri;
    if (this.size === size || nlri === undefined) return;
    let buffer = nlri;
    if (this.#used + octets > buffer.length) {
      buffer = new Uint8Array(2 * buffer.length + octets);
      buffer.set(nlri.subarray(0, this.#used));
      this.#nlri = buffer;
    }
    for (let i = 0; i < octets; i++) buffer[this.#used + i] = source[at + i]!;
    this.#used += octets;
  }

  /** The encodings of the keys in iteration order, or undefined once they were dropped. */
  get nlri(): Uint8Array | undefined {
    return this.#nlri?.subarray(0, this.#used);
  }

  override set(prefix: string, value: V): this {
    if (this.#nlri !== undefined && !this.has(prefix)) this.#nlri = undefined;
    return super.set(prefix, value);
  }

  override delete(prefix: string): boolean {
    const deleted = super.delete(prefix);
    if (deleted) this.#nlri = undefined;
    return deleted;
  }

  override clear(): void {
    this.#nlri = undefined;
    super.clear();
  }
}
