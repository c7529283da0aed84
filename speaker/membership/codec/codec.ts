import { FAMILY_BITS, formatIpValue, type IpFamily, parseIp } from '../../../shared/net/ip.ts';
import { MacKey, macKeys } from './mac.ts';

/**
 * Wire format of a membership datagram (version 1), all integers big-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 2 | magic `MB` (0x4d 0x42) |
 * | 2 | 1 | version, 1 |
 * | 3 | 1 | type: 1 heartbeat, 2 leave, 3 claim (a heartbeat asking to be answered on the LAN path), 4 holdings, 5 restarting, 6 resume |
 * | 4 | 8 | incarnation (u64): grows on every restart of the sender |
 * | 12 | 8 | sequence (u64): grows on every message within an incarnation |
 * | 20 | 8 | sentAtMs (u64): sender's wall clock, for the replay window |
 * | 28 | 1 | n: length of the node name, 1..253 |
 * | 29 | n | node name, UTF-8 (a Kubernetes Node name) |
 * | 29+n | 32 | HMAC-SHA256 over bytes 0..29+n with the shared key |
 *
 * A Holdings message has a body between the name and the MAC (the MAC then covers it too):
 * a u16 byte count, then that many bytes of entries, each a length byte (4 or 16) and an
 * IPv4 or IPv6 address: the L2 IPs the sender answers for now (docs/adr/0012-l2-sticky-owner.md).
 *
 * Restarting and Resume carry such a holdings list too (docs/adr/0013-l2-restart-in-place.md):
 * Restarting puts a u32 `holdMs` before it (how long the peers should keep the sender's IPs
 * for it), Resume a length byte (1..253) and a node name, the `subject` (the restarted node
 * whose IPs they are).
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
/**
 * Holdings ("these are the L2 IPs I answer for") is a heartbeat with a body; speakers before
 * it drop it as malformed and keep counting the sender alive by its Heartbeats.
 */
/**
 * Restarting ("I stop now and come back; keep my IPs for me for holdMs") ends an incarnation as
 * Leave does; Resume ("before your restart you held these") goes to every peer, and only its
 * subject uses it. Speakers before them drop both as malformed: a restart looks like a crash to
 * them, and they take the IPs over after the dead time.
 */
export const MessageType = {
  Heartbeat: 1,
  Leave: 2,
  Claim: 3,
  Holdings: 4,
  Restarting: 5,
  Resume: 6,
} as const;
export type MessageTypeName = keyof typeof MessageType;

export const WIRE_VERSION = 1;
const MAGIC_0 = 0x4d;
const MAGIC_1 = 0x42;
export const HEADER_BYTES = 29;
const MAC_BYTES = 32;
const MAX_NAME_BYTES = 253;
const BODY_LENGTH_BYTES = 2;
/** At most this many IPs in one Holdings message (≤ 8.7 kB of body: one UDP datagram). */
export const MAX_HOLDINGS = 512;
/** The largest holdings list: its byte count and MAX_HOLDINGS IPv6 entries. */
const MAX_HOLDINGS_BYTES = BODY_LENGTH_BYTES + MAX_HOLDINGS * 17;
const HOLD_BYTES = 4;
/** The longest hold a Restarting message may ask for; a receiver caps it further (its own setting). */
export const MAX_RESTART_HOLD_MS = 600_000;
/** The largest body of each message type that has one. */
const MAX_BODY: Partial<Record<MessageTypeName, number>> = {
  Holdings: MAX_HOLDINGS_BYTES,
  Restarting: HOLD_BYTES + MAX_HOLDINGS_BYTES,
  Resume: 1 + MAX_NAME_BYTES + MAX_HOLDINGS_BYTES,
};
/** The largest body of any message (a Resume with a 253-byte subject and MAX_HOLDINGS IPv6). */
export const MAX_BODY_BYTES = 1 + MAX_NAME_BYTES + MAX_HOLDINGS_BYTES;
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
  /** Holdings, Restarting, Resume: the IPs, canonical text, as sent. */
  readonly holdings?: readonly string[];
  /** Restarting only: how long the sender asks its peers to keep its IPs (ms, ≤ MAX_RESTART_HOLD_MS). */
  readonly holdMs?: number;
  /** Resume only: the node whose IPs `holdings` are. */
  readonly subject?: string;
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

/** Size on the wire of a message from `sender` (without a Holdings body). */
export function encodingLength(sender: string): number {
  return HEADER_BYTES + Buffer.byteLength(sender, 'utf8') + MAC_BYTES;
}

/**
 * Holdings bodies already encoded, by the list they encode. A speaker sends its whole list with
 * every heartbeat, and the protocol replaces the list when it changes, never edits it in place:
 * each list is parsed and encoded once, not at every heartbeat, which kept the network thread
 * allocating (and its heap growing) at rest. Callers copy the body and never change it.
 */
const encodedHoldings = new WeakMap<readonly string[], Uint8Array>();

/** The Holdings body: a u16 byte count, then per IP its length (4 or 16) and its bytes. */
function encodeHoldings(holdings: readonly string[]): Uint8Array {
  const known = encodedHoldings.get(holdings);
  if (known) return known;
  const out = encodeHoldingsOnce(holdings);
  encodedHoldings.set(holdings, out);
  return out;
}

function encodeHoldingsOnce(holdings: readonly string[]): Uint8Array {
  if (holdings.length > MAX_HOLDINGS) {
    throw new MembershipEncodeError('holdings', `${holdings.length} holdings, at most ${MAX_HOLDINGS}`);
  }
  const parts: Uint8Array[] = [];
  for (const text of holdings) {
    const ip = parseIp(text);
    if (!ip) throw new MembershipEncodeError('holdings', `"${text}" is not an IP address`);
    const size = FAMILY_BITS[ip.family] / 8;
    const entry = new Uint8Array(1 + size);
    entry[0] = size;
    for (let i = 0; i < size; i++) entry[size - i] = Number((ip.value >> BigInt(8 * i)) & 0xffn);
    parts.push(entry);
  }
  const bytes = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(BODY_LENGTH_BYTES + bytes);
  new DataView(out.buffer).setUint16(0, bytes);
  let at = BODY_LENGTH_BYTES;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The last holdings list read from each sender, with its bytes. A peer sends the same list with
 * every heartbeat: an unchanged body gives back the list read before instead of formatting each
 * IP again on the network thread. Only signed messages get here (after the MAC), and only the
 * most recent senders are kept.
 */
const lastHoldings = new Map<
  string,
  { readonly entries: Uint8Array; readonly holdings: readonly string[] }
>();
const MAX_REMEMBERED_SENDERS = 64;

function decodeHoldingsOf(sender: string, entries: Uint8Array): readonly string[] | string {
  const last = lastHoldings.get(sender);
  if (last && Buffer.compare(last.entries, entries) === 0) return last.holdings;
  const holdings = decodeHoldings(entries);
  if (typeof holdings === 'string') return holdings;
  lastHoldings.delete(sender);
  lastHoldings.set(sender, { entries: entries.slice(), holdings });
  if (lastHoldings.size > MAX_REMEMBERED_SENDERS)
    lastHoldings.delete(lastHoldings.keys().next().value as string);
  return holdings;
}

/** Reads the entries of a Holdings body (after its byte count); a string says what is wrong. */
function decodeHoldings(entries: Uint8Array): string[] | string {
  const out: string[] = [];
  let at = 0;
  while (at < entries.length) {
    const size = entries[at]!;
    const family: IpFamily | undefined = size === 4 ? 'IPv4' : size === 16 ? 'IPv6' : undefined;
    if (!family) return `holdings entry at byte ${at} has length ${size}, not 4 or 16`;
    if (at + 1 + size > entries.length) return `holdings entry at byte ${at} runs past the body`;
    let value = 0n;
    for (let i = 1; i <= size; i++) value = (value << 8n) | BigInt(entries[at + i]!);
    out.push(formatIpValue(family, value));
    if (out.length > MAX_HOLDINGS) return `more than ${MAX_HOLDINGS} holdings`;
    at += 1 + size;
  }
  return out;
}

/** The body of a message type that has one (empty for the others). */
function encodeBody(message: MembershipMessage): Uint8Array {
  if (message.type === 'Holdings') return encodeHoldings(message.holdings ?? []);
  if (message.type === 'Restarting') {
    const holdMs = message.holdMs ?? 0;
    if (!Number.isInteger(holdMs) || holdMs < 0 || holdMs > MAX_RESTART_HOLD_MS) {
      throw new MembershipEncodeError(
        'holdMs',
        `holdMs ${holdMs} is not an integer in 0..${MAX_RESTART_HOLD_MS}`,
      );
    }
    const holdings = encodeHoldings(message.holdings ?? []);
    const out = new Uint8Array(HOLD_BYTES + holdings.length);
    new DataView(out.buffer).setUint32(0, holdMs);
    out.set(holdings, HOLD_BYTES);
    return out;
  }
  if (message.type === 'Resume') {
    const subject = Buffer.from(message.subject ?? '', 'utf8');
    if (subject.length < 1 || subject.length > MAX_NAME_BYTES) {
      throw new MembershipEncodeError(
        'subject',
        `subject is ${subject.length} bytes, must be 1..${MAX_NAME_BYTES}`,
      );
    }
    const holdings = encodeHoldings(message.holdings ?? []);
    const out = new Uint8Array(1 + subject.length + holdings.length);
    out[0] = subject.length;
    out.set(subject, 1);
    out.set(holdings, 1 + subject.length);
    return out;
  }
  return new Uint8Array(0);
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
  const body = encodeBody(message);
  const out = new Uint8Array(HEADER_BYTES + name.length + body.length + MAC_BYTES);
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
  out.set(body, HEADER_BYTES + name.length);
  const signed = HEADER_BYTES + name.length + body.length;
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
  /** Bytes of the Holdings body (its byte count included) after the name; 0 for other types. */
  readonly bodyLength: number;
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let bodyLength = 0;
  const maxBody = MAX_BODY[type];
  if (maxBody !== undefined) {
    const body = bodyLengthAt(type, view, HEADER_BYTES + nameLength);
    if (typeof body === 'string') return { ok: false, detail: body };
    if (body > maxBody) return { ok: false, detail: `${type} body of ${body} bytes, at most ${maxBody}` };
    bodyLength = body;
  }
  const length = HEADER_BYTES + nameLength + bodyLength + MAC_BYTES;
  if (nameLength === 0 || bytes.length < length || (exact && bytes.length !== length)) {
    const body = bodyLength > 0 ? ` and body length ${bodyLength}` : '';
    return { ok: false, detail: `length ${bytes.length} does not match name length ${nameLength}${body}` };
  }
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
      bodyLength,
    },
  };
}

/**
 * The length of the body starting at `at` (a holdings list, after a hold time or a subject),
 * read from its own length fields; a string says why it cannot be read. The caller checks
 * that the datagram is long enough for it.
 */
function bodyLengthAt(type: MessageTypeName, view: DataView, at: number): number | string {
  const prefix =
    type === 'Restarting'
      ? HOLD_BYTES
      : type === 'Resume' && at < view.byteLength
        ? 1 + view.getUint8(at)
        : 0;
  if (type === 'Resume' && prefix === 1) return 'Resume subject of 0 bytes';
  if (view.byteLength < at + prefix + BODY_LENGTH_BYTES + MAC_BYTES)
    return `${view.byteLength} bytes is too short for a ${type} message`;
  return prefix + BODY_LENGTH_BYTES + view.getUint16(at + prefix);
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
  const { type, length, bodyLength } = peeked.header;
  const signed = length - MAC_BYTES;
  const nameEnd = signed - bodyLength;
  const data = bytes.subarray(0, signed);
  const received = bytes.subarray(signed, length);
  if (!macKeys(keys).some((key) => key.verify(data, received))) {
    return { ok: false, reason: 'bad-mac', detail: 'HMAC-SHA256 does not verify with any configured key' };
  }
  let sender: string;
  try {
    sender = utf8.decode(bytes.subarray(HEADER_BYTES, nameEnd));
  } catch {
    return malformed('sender name is not UTF-8');
  }
  const { incarnation, sequence, sentAtMs } = peeked.header;
  const header = { type, sender, incarnation, sequence, sentAtMs };
  if (bodyLength === 0) return { ok: true, message: header };
  const body = bytes.subarray(nameEnd, signed);
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  let extra: { holdMs: number } | { subject: string } | undefined;
  if (type === 'Restarting') {
    const holdMs = view.getUint32(0);
    if (holdMs > MAX_RESTART_HOLD_MS)
      return malformed(`Restarting holdMs ${holdMs}, at most ${MAX_RESTART_HOLD_MS}`);
    extra = { holdMs };
    at = HOLD_BYTES;
  } else if (type === 'Resume') {
    at = 1 + body[0]!;
    try {
      extra = { subject: utf8.decode(body.subarray(1, at)) };
    } catch {
      return malformed('Resume subject is not UTF-8');
    }
  }
  const holdings = decodeHoldingsOf(sender, body.subarray(at + BODY_LENGTH_BYTES));
  if (typeof holdings === 'string') return malformed(holdings);
  return { ok: true, message: { ...header, ...extra, holdings } };
}
