import type { Step } from './step-context.ts';
import type { FsmConfig } from './types.ts';

/**
 * How long the session waits before it tries again (ConnectRetry, IdleHold): exponential, capped,
 * jittered from a seeded generator kept in the state, so the same seed gives the same delays.
 */

/** mulberry32: a tiny seeded generator, so jitter is deterministic under test. */
function nextRandom(seed: number): { value: number; seed: number } {
  const next = (seed + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { value: ((t ^ (t >>> 14)) >>> 0) / 4294967296, seed: next };
}

/**
 * Backoff delay after `attempts` failures: base × 2^attempts, capped, jittered to 75–100 %
 * (RFC 4271 §10) so that a misconfigured peer sees no connection storm.
 */
export function backoffMs(config: FsmConfig, attempts: number, random: number): number {
  const raw = Math.min(config.connectRetryMaxMs, config.connectRetryMs * 2 ** Math.min(attempts, 30));
  return Math.round(raw * (0.75 + 0.25 * random));
}

/** Draws the next jittered backoff delay. */
export function drawBackoff(s: Step, attempts: number): number {
  const r = nextRandom(s.state.rng);
  s.set({ rng: r.seed });
  return backoffMs(s.state.config, attempts, r.value);
}
