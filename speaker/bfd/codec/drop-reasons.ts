/**
 * Why a received BFD datagram was dropped; each is a metric label, so the list is closed and
 * every value is declared here (RFC 5880 §6.8.6 unless noted).
 */
export const DROP_REASONS = [
  /** Shorter than the 24-byte control packet. */
  'truncated',
  'version',
  /** Length below the minimum for the A bit, or beyond the UDP payload. */
  'length',
  'detect-mult-zero',
  'multipoint',
  'my-discriminator-zero',
  /** Your Discriminator 0 while the sender says Init or Up. */
  'your-discriminator-zero',
  /** A bit set: we run no authentication. */
  'authentication',
  /** Your Discriminator names no session of ours. */
  'unknown-discriminator',
  /** Your Discriminator 0 and no session configured for the source. */
  'no-session',
  /** TTL / hop limit below what the session requires (RFC 5881 §5, RFC 5883 §5). */
  'ttl',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];
