import { hash, timingSafeEqual } from 'node:crypto';

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
/**
 * Longest signed part of a message (header, a 253-byte name and the largest body, a Resume's:
 * codec.ts MAX_BODY_BYTES), rounded up.
 */
export const MAX_DATA_BYTES = 9728;

/**
 * One HMAC-SHA256 key (RFC 2104) with its padded forms computed once. Each message is
 * signed or verified with two one-shot SHA-256 calls over preallocated buffers instead of
 * an Hmac object per message: a receiver under a flood verifies every admitted datagram, and
 * the object's set-up is most of the cost of so small an input. Same output as createHmac.
 * Not safe to share between threads (the buffers are reused): each thread makes its own.
 */
export class MacKey {
  /** key ⊕ ipad, then room for the data. */
  readonly #inner = Buffer.alloc(BLOCK_BYTES + MAX_DATA_BYTES);
  /** key ⊕ opad, then the inner digest. */
  readonly #outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);

  constructor(key: Uint8Array) {
    const block = key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
    this.#inner.fill(0x36, 0, BLOCK_BYTES);
    this.#outer.fill(0x5c, 0, BLOCK_BYTES);
    for (let i = 0; i < block.length; i++) {
      this.#inner[i]! ^= block[i]!;
      this.#outer[i]! ^= block[i]!;
    }
  }

  /** HMAC-SHA256 of `data` (at most MAX_DATA_BYTES, the longest signed part of a message). */
  sign(data: Uint8Array): Buffer {
    if (data.length > MAX_DATA_BYTES)
      throw new RangeError(`MacKey: ${data.length} bytes to sign, at most ${MAX_DATA_BYTES}`);
    this.#inner.set(data, BLOCK_BYTES);
    const inner = hash('sha256', this.#inner.subarray(0, BLOCK_BYTES + data.length), 'buffer');
    this.#outer.set(inner, BLOCK_BYTES);
    return hash('sha256', this.#outer, 'buffer');
  }

  /** Whether `mac` is the HMAC of `data`, compared in constant time. */
  verify(data: Uint8Array, mac: Uint8Array): boolean {
    return mac.length === DIGEST_BYTES && timingSafeEqual(this.sign(data), mac);
  }
}

/** Prepared keys for raw ones (the configuration holds raw bytes). */
export function macKeys(keys: readonly (Uint8Array | MacKey)[]): MacKey[] {
  return keys.map((key) => (key instanceof MacKey ? key : new MacKey(key)));
}
