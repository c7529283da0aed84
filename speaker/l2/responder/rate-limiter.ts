/** Token-bucket parameters: `burst` answers at once, refilled at `perSecond`. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** Default per-requester limit: far above any real resolver, far below a storm. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 50 };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * Per-requester token buckets (key: requester MAC + interface). Time is a parameter
 * (`nowMs`), so it is tested without a clock. Memory is bounded: at `maxKeys` the oldest
 * buckets are forgotten (a forgotten requester starts again with a full bucket).
 */
export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #maxKeys: number;
  /** key → bucket, in insertion order (oldest first) for eviction. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit = DEFAULT_RATE_LIMIT, maxKeys = 4096) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError(
        `rate limit: perSecond must be > 0 and burst >= 1, got ${limit.perSecond}/${limit.burst}`,
      );
    }
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token for `key` at `nowMs`; false when the requester is over its limit. */
  allow(key: string, nowMs: number): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      bucket = { tokens: this.#limit.burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
    } else {
      const elapsedMs = Math.max(0, nowMs - bucket.updatedMs);
      bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + (elapsedMs * this.#limit.perSecond) / 1000);
      bucket.updatedMs = nowMs;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Number of requesters currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}
