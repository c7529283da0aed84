import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * The embedded API server's own CA and serving certificate, made at start with node:crypto
 * (ECDSA P-256, SHA-256): no openssl program and no files beyond the ones the server writes.
 * Node can parse X.509 but not issue it, so the few DER structures of RFC 5280 a CA and a TLS
 * server certificate need are encoded here.
 */

/** DER type-length-value. */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const length =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octets = (value: Buffer): Buffer => tlv(0x04, value);
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const explicit = (n: number, value: Buffer): Buffer => tlv(0xa0 + n, value);
const TRUE = tlv(0x01, Buffer.from([0xff]));

/** A BIT STRING of whole bytes, or of `bits` bits (the rest of the last byte unused). */
function bitString(value: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.from([unusedBits]), value);
}

/** A non-negative INTEGER from big-endian bytes (a leading 0 keeps the sign bit clear). */
function integer(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const trimmed = value.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** An OBJECT IDENTIFIER from its dotted form. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const groups = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      groups.unshift((rest & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime (RFC 5280 4.1.2.5.1: years 1950-2049), seconds precision. */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-07T08:00:00.000Z
  return tlv(
    0x17,
    Buffer.from(
      `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`,
    ),
  );
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const name = (commonName: string): Buffer => sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));
const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  sequence(oid(id), ...(critical ? [TRUE] : []), octets(value));

/** subjectAltName entries: IP addresses ([7] iPAddress) and DNS names ([2] dNSName). */
function altNames(hosts: readonly string[]): Buffer {
  return sequence(
    ...hosts.map((host) => {
      const family = isIP(host);
      if (family === 0) return tlv(0x82, Buffer.from(host, 'ascii'));
      return tlv(0x87, family === 4 ? Buffer.from(host.split('.').map(Number)) : ipv6Bytes(host));
    }),
  );
}

function ipv6Bytes(text: string): Buffer {
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part ? part.split(':') : []);
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = [...front, ...Array(8 - front.length - back.length).fill('0'), ...back];
  const out = Buffer.alloc(16);
  for (const [i, g] of all.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

/** What one certificate says; the issuer signs it. */
export interface CertificateFields {
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA (may sign certificates) or a TLS server certificate for `hosts`. */
  readonly ca: boolean;
  readonly hosts?: readonly string[];
}

/** The DER TBSCertificate of RFC 5280 4.1 (version 3). */
export function tbsCertificate(f: CertificateFields): Buffer {
  const spki = f.publicKey.export({ type: 'spki', format: 'der' });
  const extensions = f.ca
    ? [
        extension('2.5.29.19', true, sequence(TRUE)),
        // digitalSignature, keyCertSign, cRLSign
        extension('2.5.29.15', true, bitString(Buffer.from([0x86]), 1)),
      ]
    : [
        extension('2.5.29.19', true, sequence()),
        // digitalSignature
        extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)),
        // extKeyUsage: serverAuth
        extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))),
        extension('2.5.29.17', false, altNames(f.hosts ?? [])),
      ];
  return sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(f.serial),
    ECDSA_WITH_SHA256,
    name(f.issuer),
    sequence(utcTime(f.notBefore), utcTime(f.notAfter)),
    name(f.subject),
    spki,
    explicit(3, sequence(...extensions)),
  );
}

/** The signed certificate as PEM. */
export function signCertificate(fields: CertificateFields, issuerKey: KeyObject): string {
  const tbs = tbsCertificate(fields);
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, issuerKey)));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A CA and a server certificate it signed: what the HTTPS listener and the mounts need. */
export interface ServingCertificates {
  /** The CA certificate (PEM): what ca.crt of a ServiceAccount mount holds. */
  readonly caPem: string;
  /** The server certificate (PEM) and its private key (PEM, PKCS#8). */
  readonly certPem: string;
  readonly keyPem: string;
}

const HOUR_MS = 3_600_000;

/**
 * A fresh CA and a server certificate for `hosts` (IP addresses or DNS names), valid from an
 * hour ago (clock skew between namespaces is nil, but a caller's clock may be set back) for
 * `validDays`. The CA's key is dropped: nothing else is ever signed with it.
 */
export function makeServingCertificates(
  hosts: readonly string[],
  options: { now?: Date; validDays?: number; commonName?: string } = {},
): ServingCertificates {
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - HOUR_MS);
  const notAfter = new Date(now.getTime() + (options.validDays ?? 365) * 24 * HOUR_MS);
  const serial = (): Buffer => {
    const bytes = randomBytes(16);
    bytes[0]! &= 0x7f;
    return bytes;
  };
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const server = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = `${options.commonName ?? 'metalbeacon-apiserver'}-ca`;
  const caPem = signCertificate(
    {
      subject: caName,
      issuer: caName,
      publicKey: ca.publicKey,
      serial: serial(),
      notBefore,
      notAfter,
      ca: true,
    },
    ca.privateKey,
  );
  const certPem = signCertificate(
    {
      subject: options.commonName ?? 'metalbeacon-apiserver',
      issuer: caName,
      publicKey: server.publicKey,
      serial: serial(),
      notBefore,
      notAfter,
      ca: false,
      hosts,
    },
    ca.privateKey,
  );
  const keyPem = server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { caPem, certPem, keyPem };
}
