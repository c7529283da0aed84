import type { BfdProfileConfig } from '../../../shared/config/types.ts';
import type { BfdSessionConfig, BfdState, BfdTimers } from './types.ts';

/** While not Up, bfd.DesiredMinTxInterval is at least one second (RFC 5880 §6.8.3). */
export const SLOW_TX_US = 1_000_000;

/** The lower jitter bound: no interval is shorter than 75 % of the negotiated one (§6.8.7). */
export const MIN_JITTER_FACTOR = 0.75;

const U32_MAX = 0xffffffff;

/**
 * The interval before the next periodic packet: the negotiated interval less a random 0–25 %,
 * or, with a Detect Mult of 1, between 75 and 90 % of it so that one late packet cannot
 * expire the peer's Detection Time (RFC 5880 §6.8.7). `random` is in [0, 1).
 */
export function jitteredIntervalUs(intervalUs: number, detectMult: number, random: number): number {
  const max = detectMult === 1 ? 0.9 : 1;
  return intervalUs * (max - (max - MIN_JITTER_FACTOR) * random);
}

/** xorshift32: a small seeded generator, so the jitter of a run can be replayed. */
export function nextRandom(seed: number): { readonly value: number; readonly seed: number } {
  let x = seed >>> 0 || 0x9e3779b9;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  x >>>= 0;
  return { value: (x - 1) / U32_MAX, seed: x };
}

/**
 * The interval our periodic packets keep (RFC 5880 §6.8.2): the slower of what we want to send
 * and what the peer wants to receive.
 */
export function transmitIntervalUs(s: BfdState): number {
  return Math.max(s.txInUseUs, s.remoteMinRxUs);
}

/**
 * Silence after which the peer counts as gone (RFC 5880 §6.8.4, Asynchronous mode): its Detect
 * Mult times the interval it agreed to send at, the slower of its Desired Min TX and our
 * Required Min RX. 0 until the peer's first packet.
 */
export function detectionTimeUs(s: BfdState): number {
  return s.remoteDetectMult * Math.max(s.rxInUseUs, s.remoteDesiredMinTxUs);
}

/** A BFDProfile's timers (milliseconds, validated by shared/config) as the wire's µs. */
export function timersFromProfile(profile: BfdProfileConfig): BfdTimers {
  return {
    desiredMinTxUs: profile.transmitIntervalMs * 1000,
    requiredMinRxUs: profile.receiveIntervalMs * 1000,
    detectMult: profile.detectMultiplier,
    passive: profile.passiveMode,
  };
}

/** Checks a session configuration; returns the problems, each naming the field. */
export function validateSessionConfig(config: BfdSessionConfig): string[] {
  const problems: string[] = [];
  const whole = (field: keyof BfdSessionConfig, min: number, max: number) => {
    const v = config[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${field} ${String(v)} must be a whole number from ${min} to ${max}`);
  };
  whole('desiredMinTxUs', 1, U32_MAX);
  whole('requiredMinRxUs', 0, U32_MAX);
  whole('detectMult', 1, 255);
  whole('localDiscriminator', 1, U32_MAX);
  whole('jitterSeed', 0, U32_MAX);
  return problems;
}
