import { ErrorCode } from './constants.ts';

/**
 * What the receiver does about an error (RFC 7606 §2): `session-reset` sends the NOTIFICATION
 * and closes; `treat-as-withdraw` keeps the session and handles the UPDATE's routes as
 * withdrawn; `attribute-discard` drops the attribute and keeps the rest; `value-discard` drops
 * part of an attribute's value and keeps the rest of it (confederation segments in AS4_PATH,
 * RFC 6793 §6; a second IPv6 next hop that is not link-local, as BIRD and FRR do).
 */
export type ErrorAction = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard' | 'value-discard';

/**
 * A malformed BGP message. It carries the NOTIFICATION that RFC 4271 §6 prescribes
 * (code, subcode, data) and the RFC 7606 action, so a decode failure maps straight to what
 * the session must send.
 */
export class BgpMessageError extends Error {
  override readonly name = 'BgpMessageError';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorAction;
  /** Type code of the path attribute in error (UPDATE errors about one attribute), for logs and metrics. */
  readonly attribute: number | undefined;
  /** How many times the UPDATE had this error (repeated attributes are reported once). */
  readonly occurrences: number;

  constructor(
    code: number,
    subcode: number,
    message: string,
    options: { data?: Uint8Array; action?: ErrorAction; attribute?: number; occurrences?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.subcode = subcode;
    this.data = options.data ?? new Uint8Array(0);
    this.action = options.action ?? 'session-reset';
    this.attribute = options.attribute;
    this.occurrences = options.occurrences ?? 1;
  }
}

/** Raised by encoders when asked to encode something the wire format cannot hold (a caller bug). */
export class BgpEncodeError extends Error {
  override readonly name = 'BgpEncodeError';
}

/** Shorthand for UPDATE message errors (code 3); `attribute` is the type code in error, if one. */
export function updateError(
  subcode: number,
  message: string,
  action: ErrorAction,
  details: { data?: Uint8Array; attribute?: number; occurrences?: number } = {},
): BgpMessageError {
  return new BgpMessageError(ErrorCode.UpdateMessage, subcode, message, { action, ...details });
}
