import { MAX_RESTART_HOLD_MS } from '../codec/codec.ts';

/**
 * Membership timing and identity. Defaults (see docs/adr/0002-membership.md for the why):
 * a heartbeat every 50 ms to every peer, a peer is dead after 300 ms of silence, checked
 * every 25 ms, so a crash is detected in 250–325 ms while 5 consecutive lost datagrams or
 * a 250 ms stall of the sender (GC, a busy core) raise no alarm.
 */
export const MembershipDefaults = {
  heartbeatIntervalMs: 50,
  deadAfterMs: 300,
  tickMs: 25,
  /** Accepted difference between the sender's and our wall clock (replay window). */
  maxClockSkewMs: 5000,
  /** Leave is sent this many times (distinct sequence numbers) so one lost datagram does not matter. */
  leaveRepeats: 3,
  /** The longest a peer's Restarting makes us keep its IPs for it, whatever it asks (restart in place). */
  maxRestartHoldMs: 60_000,
  /**
   * A peer back from a restart in place keeps the IPs it held this long before it says what it
   * holds now (its first plan), and we repeat them to it (Resume) meanwhile.
   */
  resumeGraceMs: 2000,
  /**
   * A restarting peer's node answered our heartbeats with ICMP port unreachable (its kernel lives,
   * its speaker is down) and then fell silent this long: the node is gone, its hold ends. Linux
   * sends about one such ICMP a second to each sender (icmp_ratelimit), hence two seconds.
   */
  restartEvidenceMs: 2000,
} as const;

/** The fastest settings we document: detection in 100–130 ms, tolerating a 100 ms stall. */
export const MembershipFastest = { heartbeatIntervalMs: 20, deadAfterMs: 120, tickMs: 10 } as const;

/** UDP port of the membership protocol (memberlist, which MetalLB uses, holds 7946). */
export const DEFAULT_MEMBERSHIP_PORT = 7951;

/** Validated membership settings of one speaker. */
export interface MembershipConfig {
  /** This speaker's Kubernetes Node name: its identity on the wire. */
  readonly nodeName: string;
  /** HMAC-SHA256 keys: the first signs, any verifies (rotation). From a Secret. */
  readonly keys: readonly Uint8Array[];
  readonly heartbeatIntervalMs: number;
  readonly deadAfterMs: number;
  readonly tickMs: number;
  readonly maxClockSkewMs: number;
  readonly leaveRepeats: number;
  readonly maxRestartHoldMs: number;
  readonly resumeGraceMs: number;
  readonly restartEvidenceMs: number;
}

export type MembershipConfigInput = Pick<MembershipConfig, 'nodeName' | 'keys'> &
  Partial<Omit<MembershipConfig, 'nodeName' | 'keys'>>;

/** A setting no speaker can run with; `field` names it. */
export class MembershipConfigError extends Error {
  readonly field: keyof MembershipConfig;
  constructor(field: keyof MembershipConfig, message: string) {
    super(`membership config: ${field}: ${message}`);
    this.name = 'MembershipConfigError';
    this.field = field;
  }
}

/** RFC 1123 subdomain, the shape of a Kubernetes Node name. */
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MIN_KEY_BYTES = 16;

/** Fills defaults and checks every setting; throws MembershipConfigError naming the field. */
export function membershipConfig(input: MembershipConfigInput): MembershipConfig {
  const config: MembershipConfig = { ...MembershipDefaults, ...stripUndefined(input) };
  if (config.nodeName.length > 253 || !NODE_NAME.test(config.nodeName)) {
    throw new MembershipConfigError('nodeName', `"${config.nodeName}" is not a Kubernetes node name`);
  }
  if (config.keys.length === 0) throw new MembershipConfigError('keys', 'at least one HMAC key is required');
  config.keys.forEach((key, i) => {
    if (key.length < MIN_KEY_BYTES) {
      throw new MembershipConfigError(
        'keys',
        `key ${i} has ${key.length} bytes, at least ${MIN_KEY_BYTES} needed`,
      );
    }
  });
  const positive = [
    'heartbeatIntervalMs',
    'deadAfterMs',
    'tickMs',
    'maxClockSkewMs',
    'leaveRepeats',
    'maxRestartHoldMs',
    'resumeGraceMs',
    'restartEvidenceMs',
  ] as const;
  for (const field of positive) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new MembershipConfigError(field, `${value} is not a positive integer`);
    }
  }
  if (config.deadAfterMs < 2 * config.heartbeatIntervalMs) {
    throw new MembershipConfigError(
      'deadAfterMs',
      `${config.deadAfterMs} must be at least twice heartbeatIntervalMs (${config.heartbeatIntervalMs}), or one late heartbeat is a false alarm`,
    );
  }
  if (config.tickMs > config.heartbeatIntervalMs) {
    throw new MembershipConfigError('tickMs', `${config.tickMs} must not exceed heartbeatIntervalMs`);
  }
  if (config.maxClockSkewMs < config.deadAfterMs) {
    throw new MembershipConfigError(
      'maxClockSkewMs',
      `${config.maxClockSkewMs} must be at least deadAfterMs`,
    );
  }
  if (config.maxRestartHoldMs > MAX_RESTART_HOLD_MS) {
    throw new MembershipConfigError(
      'maxRestartHoldMs',
      `${config.maxRestartHoldMs} is more than ${MAX_RESTART_HOLD_MS}`,
    );
  }
  if (config.resumeGraceMs < config.deadAfterMs) {
    throw new MembershipConfigError('resumeGraceMs', `${config.resumeGraceMs} must be at least deadAfterMs`);
  }
  if (config.leaveRepeats > 10)
    throw new MembershipConfigError('leaveRepeats', `${config.leaveRepeats} is more than 10`);
  return config;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
