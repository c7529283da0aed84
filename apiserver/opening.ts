/**
 * What the first bytes of a connection to the HTTPS listener are. A TLS client opens with a
 * handshake record (content type 22); a client that speaks plain HTTP to the HTTPS port
 * opens with a request line (`GET /...`). Anything else is neither. Pure: the shell
 * (https-front.ts) feeds it the bytes received so far.
 */
export type Opening = 'tls' | 'http' | 'other' | 'undecided';

/** TLS record content type of a handshake (RFC 8446 section 5.1). */
const HANDSHAKE_RECORD = 0x16;
/** Longer than any HTTP method a client sends (OPTIONS, CONNECT). */
const LONGEST_METHOD = 10;

export function classifyOpening(bytes: Uint8Array): Opening {
  if (bytes.length === 0) return 'undecided';
  if (bytes[0] === HANDSHAKE_RECORD) return 'tls';
  let i = 0;
  while (i < bytes.length && i <= LONGEST_METHOD && isUpperAscii(bytes[i]!)) i++;
  if (i === bytes.length && i <= LONGEST_METHOD) return 'undecided';
  return i > 0 && bytes[i] === 0x20 ? 'http' : 'other';
}

/** The most bytes classifyOpening needs before it decides. */
export const OPENING_BYTES = LONGEST_METHOD + 2;

function isUpperAscii(byte: number): boolean {
  return byte >= 0x41 && byte <= 0x5a;
}
