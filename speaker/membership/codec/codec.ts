import { MacKey, macKeys } from './mac.ts';

/**
 * Wire format of a membership datagram (version 1), all integers big-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 2 | magic `MB` (0x4d 0x42) |
 * | 2 | 1 | version, 1 |
 * | 3 | 1 | type: 1 heartbeat, 2 leave, 3 claim (a heartbeat asking to be answered on the LAN path) |
 * | 4 | 8 | incarnation (u64): grows on every restart of the sender |
 * | 12 | 8 | sequence (u64): grows on every message within an incarnation |
 * | 20 | 8 | sentAtMs (u64): sender's wall clock, for the replay window |
 * | 28 | 1 | n: length of the node name, 1..253 |
 * | 29 | n | node name, UTF-8 (a Kubernetes Node name) |
 * | 29+n | 32 | HMAC-SHA256 over bytes 0..29+n with the shared key |
 *
 * The MAC covers everything, so a host without the key can neither forge liveness nor a
 * leave (which would force a takeover); sequence and timestamp make a captured datagram
 * useless once replayed (the protocol module checks them).
 */
/**
 * Heartbeat and Leave go everywhere. Claim is a heartbeat sent over the LAN path (in an
 * Ethernet frame, see speaker/l2/frames/membership.ts) by a speaker that does not hear the
 * recipient on the membership port: "I am alive, and talk to me here". Speakers before the
 * LAN path drop it as malformed; it never goes over UDP.
 */
export const MessageType = { Heartbeat: 1, Leave: 2, Claim: 3 } as const;
export type MessageTypeName = keyof typeof MessageType;

export const WIRE_VERSION = 1;
const MAGIC_0 = 0x4d;
const MAGIC_1 = 0x42;
export const HEADER_BYTES = 29;
const MAC_BYTES = 32;
const MAX_NAME_BYTES = 253;
const U64_MAX = (1n << 64n) - 1n;
const TYPE_NAMES = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, code]) => [code, name as MessageTypeName]),
);

/** A decoded, authenticated membership message. */
export interface MembershipMessage {
  readonly type: MessageTypeName;
  readonly sender: string;
  readonly incarnation: bigint;
  readonly sequence: bigint;
  readonly sentAtMs: number;
}

/**
 * Why a datagram was dropped; each is a metric label. The first six are decided by the
 * protocol, the last three by the screen in front of it, before any cryptography
 * (../protocol/screen.ts).
 */
export type RejectReason =
  | 'malformed'
  | 'bad-mac'
  | 'replay'
  | 'stale'
  | 'unknown-sender'
  | 'self'
  | 'unknown-source'
  | 'source-mismatch'
  | 'over-budget';

/** Every reason, in a fixed order (metrics, counters). */
export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed',
  'bad-mac',
  'replay',
  'stale',
  'unknown-sender',
  'self',
  'unknown-source',
  'source-mismatch',
  'over-budget',
];

export type DecodeResult =
  | { readonly ok: true; readonly message: MembershipMessage }
  | { readonly ok: false; readonly reason: 'malformed' | 'bad-mac'; readonly detail: string };

/** Thrown by encode for values that cannot go on the wire (a programming or config error). */
export class MembershipEncodeError extends Error {
  readonly field: keyof MembershipMessage | 'key';
  constructor(field: keyof MembershipMessage | 'key', message: string) {
    super(`membership message: ${message}`);
    this.name = 'MembershipEncodeError';
    this.field = field;
  }
}

/** Size on the wire of a message from `sender`. */
export function encodingLength(sender: string): number {
  return HEADER_BYTES + Buffer.byteLength(sender, 'utf8') + MAC_BYTES;
}

/** Encodes and signs a message with `key` (the first of the configured keys). */
export function encodeMessage(message: MembershipMessage, key: Uint8Array | MacKey): Uint8Array {
  if (!(key instanceof MacKey) && key.length === 0)
    throw new MembershipEncodeError('key', 'the HMAC key is empty');
  const name = Buffer.from(message.sender, 'utf8');
  if (name.length < 1 || name.length > MAX_NAME_BYTES) {
    throw new MembershipEncodeError(
      'sender',
      `sender name is ${name.length} bytes, must be 1..${MAX_NAME_BYTES}`,
    );
  }
  for (const field of ['incarnation', 'sequence'] as const) {
    const value = message[field];
    if (value < 0n || value > U64_MAX)
      throw new MembershipEncodeError(field, `${field} ${value} is not a u64`);
  }
  if (!Number.isSafeInteger(message.sentAtMs) || message.sentAtMs < 0) {
    throw new MembershipEncodeError('sentAtMs', `sentAtMs ${message.sentAtMs} is not a non-negative integer`);
  }
  const out = new Uint8Array(HEADER_BYTES + name.length + MAC_BYTES);
  const view = new DataView(out.buffer);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = WIRE_VERSION;
  out[3] = MessageType[message.type];
  view.setBigUint64(4, message.incarnation);
  view.setBigUint64(12, message.sequence);
  view.setBigUint64(20, BigInt(message.sentAtMs));
  out[28] = name.length;
  out.set(name, HEADER_BYTES);
  const signed = HEADER_BYTES + name.length;
  const [macKey] = macKeys([key]);
  out.set(macKey!.sign(out.subarray(0, signed)), signed);
  return out;
}

/** What can be read of a datagram without its key: enough to screen it before any cryptography. */
export interface MessageHeader {
  readonly type: MessageTypeName;
  /** The claimed sender, read byte by byte (a name that is not ASCII matches no node). */
  readonly sender: string;
  readonly incarnation: bigint;
  readonly sequence: bigint;
  readonly sentAtMs: number;
  /** Length of the message; a datagram may carry trailing bytes (Ethernet padding on the LAN path). */
  readonly length: number;
}

export type PeekResult =
  | { readonly ok: true; readonly header: MessageHeader }
  | { readonly ok: false; readonly detail: string };

/**
 * Reads the header of a datagram, unauthenticated, checking only its shape. Never throws.
 * With `exact`, the datagram must end where the message does (UDP); without, trailing
 * bytes are allowed (a frame padded to the Ethernet minimum).
 */
export function peekHeader(bytes: Uint8Array, exact = true): PeekResult {
  if (bytes.length < HEADER_BYTES + 1 + MAC_BYTES)
    return { ok: false, detail: `${bytes.length} bytes is too short` };
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return { ok: false, detail: 'bad magic' };
  if (bytes[2] !== WIRE_VERSION) return { ok: false, detail: `unsupported version ${bytes[2]}` };
  const type = TYPE_NAMES.get(bytes[3]!);
  if (!type) return { ok: false, detail: `unknown message type ${bytes[3]}` };
  const nameLength = bytes[28]!;
  const length = HEADER_BYTES + nameLength + MAC_BYTES;
  if (nameLength === 0 || bytes.length < length || (exact && bytes.length !== length)) {
    return { ok: false, detail: `length ${bytes.length} does not match name length ${nameLength}` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sentAt = view.getBigUint64(20);
  if (sentAt > BigInt(Number.MAX_SAFE_INTEGER))
    return { ok: false, detail: `sentAtMs ${sentAt} is out of range` };
  let sender = '';
  for (let i = HEADER_BYTES; i < HEADER_BYTES + nameLength; i++) sender += String.fromCharCode(bytes[i]!);
  return {
    ok: true,
    header: {
      type,
      sender,
      incarnation: view.getBigUint64(4),
      sequence: view.getBigUint64(12),
      sentAtMs: Number(sentAt),
      length,
    },
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a datagram and verifies its MAC against each of `keys` (several during a key
 * rotation). Never throws: anything wrong is a reason to drop and count. `exact` as in
 * {@link peekHeader}.
 */
export function decodeMessage(
  bytes: Uint8Array,
  keys: readonly (Uint8Array | MacKey)[],
  exact = true,
): DecodeResult {
  const malformed = (detail: string): DecodeResult => ({ ok: false, reason: 'malformed', detail });
  const peeked = peekHeader(bytes, exact);
  if (!peeked.ok) return malformed(peeked.detail);
  const { type, length } = peeked.header;
  const signed = length - MAC_BYTES;
  const data = bytes.subarray(0, signed);
  const received = bytes.subarray(signed, length);
  if (!macKeys(keys).some((key) => key.verify(data, received))) {
    return { ok: false, reason: 'bad-mac', detail: 'HMAC-SHA256 does not verify with any configured key' };
  }
  let sender: string;
  try {
    sender = utf8.decode(bytes.subarray(HEADER_BYTES, signed));
  } catch {
    return malformed('sender name is not UTF-8');
  }
  const { incarnation, sequence, sentAtMs } = peeked.header;
  return { ok: true, message: { type, sender, incarnation, sequence, sentAtMs } };
}
