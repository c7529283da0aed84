/** Test helper: hex text with `#` comments and whitespace to bytes, so fixtures can be annotated. */
export function hex(text: string): Uint8Array {
  const clean = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex fixture: ${clean}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The 16-octet all-ones marker, in hex. */
export const MARKER = 'ffffffffffffffffffffffffffffffff';

/** A whole UPDATE from its annotated body: the header (marker, length, type 2) is computed. */
export function updateMessage(body: string): Uint8Array {
  const b = hex(body);
  const length = (19 + b.length).toString(16).padStart(4, '0');
  return hex(`${MARKER} ${length} 02 ${body}`);
}

/** The parts one after the other in one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
