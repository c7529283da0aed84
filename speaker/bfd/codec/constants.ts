/**
 * Numbers of BFD (RFC 5880) and its IP transport (RFC 5881 single hop, RFC 5883 multihop).
 * Names follow the RFCs' words.
 */

/** The only protocol version (RFC 5880 §4.1). */
export const BFD_VERSION = 1;

/** A control packet without the authentication section (RFC 5880 §4.1). */
export const CONTROL_PACKET_BYTES = 24;

/** The least a packet with the A bit set can be: 24 plus Auth Type and Auth Len (RFC 5880 §6.8.6). */
export const MIN_AUTHENTICATED_PACKET_BYTES = 26;

/** Diagnostic codes (RFC 5880 §4.1); 9..31 are reserved and decode as plain numbers. */
export const Diag = {
  NoDiagnostic: 0,
  ControlDetectionTimeExpired: 1,
  EchoFunctionFailed: 2,
  NeighborSignaledSessionDown: 3,
  ForwardingPlaneReset: 4,
  PathDown: 5,
  ConcatenatedPathDown: 6,
  AdministrativelyDown: 7,
  ReverseConcatenatedPathDown: 8,
} as const;

/** Session states as carried in the Sta field (RFC 5880 §4.1). */
export const SessionState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type SessionStateName = keyof typeof SessionState;

/** Sta field value -> state name. */
export const SESSION_STATE_NAMES: readonly SessionStateName[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** UDP destination ports: RFC 5881 §4 (single hop), RFC 5883 §5 (multihop). */
export const BfdPort = { SingleHop: 3784, Multihop: 4784 } as const;

/** Source ports a sender picks from (RFC 5881 §4, RFC 5883 §5). */
export const SOURCE_PORT_RANGE = { min: 49152, max: 65535 } as const;

/** TTL / hop limit sent on single-hop sessions and required on receipt (RFC 5881 §5, GTSM). */
export const GTSM_TTL = 255;

/** Diagnostic code -> its RFC name, for logs and status; reserved codes read `Reserved(n)`. */
export function diagName(diag: number): string {
  for (const [name, code] of Object.entries(Diag)) if (code === diag) return name;
  return `Reserved(${diag})`;
}
