/** Token-bucket parameters: `burst` answers at once, refilled at `perSecond`. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** Default per-requester limit: far above any real resolver, far below a storm. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 50 };

/**
 * Default limit on all answers of one responder together. The per-requester key (the
 * requester's MAC) is chosen by whoever sends the request, so only this bound caps what a
 * LAN host that rotates MACs gets out of us; a LAN of thousands of clients re-resolving every
 * few seconds stays far below it.
 */
export const DEFAULT_OVERALL_LIMIT: RateLimit = { perSecond: 2000, burst: 1000 };

/** Throws a RangeError naming `what` when the limit is not a usable token bucket. */
export function checkRateLimit(limit: RateLimit, what = 'rate limit'): void {
  if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
    throw new RangeError(
      `${what}: perSecond must be > 0 and burst >= 1, got ${limit.perSecond}/${limit.burst}`,
    );
  }
}

/** One token bucket; time is a parameter (`nowMs`), never read from a clock. */
export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #updatedMs: number;

  constructor(limit: RateLimit, nowMs: number) {
    checkRateLimit(limit);
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#updatedMs = nowMs;
  }

  /** Takes one token at `nowMs`; false when the bucket is empty. */
  take(nowMs: number): boolean {
    return this.takeLevel(nowMs) >= 0;
  }

  /** Takes one token at `nowMs` and returns how full the bucket is after it (0..1), or -1 when empty. */
  takeLevel(nowMs: number): number {
    const elapsedMs = Math.max(0, nowMs - this.#updatedMs);
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + (elapsedMs * this.#limit.perSecond) / 1000);
    this.#updatedMs = Math.max(this.#updatedMs, nowMs);
    if (this.#tokens < 1) return -1;
    this.#tokens -= 1;
    return this.#tokens / this.#limit.burst;
  }
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
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: RateLimit = DEFAULT_RATE_LIMIT, maxKeys = 4096) {
    checkRateLimit(limit);
    this.#limit = limit;
    this.#maxKeys = maxKeys;
  }

  /** Takes one token for `key` at `nowMs`; false when the requester is over its limit. */
  allow(key: string, nowMs: number): boolean {
    return this.takeLevel(key, nowMs) >= 0;
  }

  /** Takes one token for `key`; how full its bucket is after it (0..1), or -1 when over its limit. */
  takeLevel(key: string, nowMs: number): number {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      bucket = new TokenBucket(this.#limit, nowMs);
      this.#buckets.set(key, bucket);
    }
    return bucket.takeLevel(nowMs);
  }

  /** Number of requesters currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * What the responder may answer: each requester within its own limit, and all of them
 * together within the overall one. The overall limit is split in two halves: requesters
 * whose own bucket is still more than half full (they ask rarely: real resolvers) draw from
 * one, requesters that spend their bucket fast draw from the other. A LAN host flooding from
 * a few MACs then exhausts only the second half and ordinary clients are still answered;
 * one rotating through many MACs looks like many rare askers and can starve them, but never
 * gets more than the overall limit out of us.
 */
export class AnswerBudget {
  readonly perRequester: RateLimiter;
  readonly #rare: TokenBucket;
  readonly #frequent: TokenBucket;

  constructor(perRequester: RateLimit = DEFAULT_RATE_LIMIT, overall: RateLimit = DEFAULT_OVERALL_LIMIT) {
    checkRateLimit(overall, 'overall rate limit');
    const half = { perSecond: overall.perSecond / 2, burst: Math.max(1, overall.burst / 2) };
    this.perRequester = new RateLimiter(perRequester);
    this.#rare = new TokenBucket(half, 0);
    this.#frequent = new TokenBucket(half, 0);
  }

  /** 'ok', or which limit refuses one more answer for `requesterKey` at `nowMs`. */
  take(requesterKey: string, nowMs: number): 'ok' | 'requester' | 'overall' {
    const level = this.perRequester.takeLevel(requesterKey, nowMs);
    if (level < 0) return 'requester';
    return (level > 0.5 ? this.#rare : this.#frequent).take(nowMs) ? 'ok' : 'overall';
  }
}
