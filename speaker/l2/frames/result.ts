/**
 * Why a frame was not decoded. `Ignored*` codes are frames that are well-formed but not
 * ours to handle (another ICMPv6 type, a VLAN tag); every other code is a malformed frame,
 * counted and dropped by the responder (never thrown: STYLE "errors carry protocol meaning").
 */
export const FrameErrorCode = {
  Truncated: 'truncated',
  BadHardwareType: 'bad-hardware-type',
  BadProtocolType: 'bad-protocol-type',
  BadAddressLength: 'bad-address-length',
  BadOperation: 'bad-operation',
  BadVersion: 'bad-version',
  BadPayloadLength: 'bad-payload-length',
  BadHopLimit: 'bad-hop-limit',
  BadChecksum: 'bad-checksum',
  BadCode: 'bad-code',
  BadOption: 'bad-option',
  BadTarget: 'bad-target',
  BadAddress: 'bad-address',
  IgnoredEtherType: 'ignored-ethertype',
  IgnoredNextHeader: 'ignored-next-header',
  IgnoredIcmpType: 'ignored-icmp-type',
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

/** A decode failure: a stable code plus a sentence naming the packet and the field. */
export interface FrameError {
  readonly code: FrameErrorCode;
  readonly message: string;
}

/** Result of every decoder: the value, or why not. Decoders never throw on input bytes. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: FrameError };

/** True for codes that mean "well-formed but not for the responder" rather than malformed. */
export function isIgnored(code: FrameErrorCode): boolean {
  return code.startsWith('ignored-');
}

/** Shorthand for a failed decode. */
export function fail<T>(code: FrameErrorCode, message: string): Decoded<T> {
  return { ok: false, error: { code, message } };
}

/** Shorthand for a successful decode. */
export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}
