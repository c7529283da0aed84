/**
 * Just enough of the pcap format (libpcap, Ethernet, IPv4/IPv6, TCP) to pull the two byte
 * streams of one TCP connection out of a capture, for the BGP replay fixtures.
 */
import { concatBytes } from '../../speaker/bgp/codec/test-helpers.ts';

/** The payload bytes of each direction of the first TCP connection to/from `port`, in order. */
export function tcpStreams(pcap: Uint8Array, port: number): { toPort: Uint8Array; fromPort: Uint8Array } {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && view.getUint32(0, false) !== 0xa1b2c3d4) throw new Error('not a pcap file');
  const linkType = view.getUint32(20, little);
  if (linkType !== 1) throw new Error(`pcap link type ${linkType} is not Ethernet`);
  // Segments by direction, keyed by sequence number, so retransmissions count once.
  const segments = { toPort: new Map<number, Uint8Array>(), fromPort: new Map<number, Uint8Array>() };
  let at = 24;
  while (at + 16 <= pcap.length) {
    const capLen = view.getUint32(at + 8, little);
    const frame = pcap.subarray(at + 16, at + 16 + capLen);
    at += 16 + capLen;
    const etherType = (frame[12]! << 8) | frame[13]!;
    let ip = 14;
    let proto: number;
    let ipEnd: number;
    if (etherType === 0x0800) {
      proto = frame[ip + 9]!;
      ipEnd = ip + (frame[ip]! & 0x0f) * 4;
    } else if (etherType === 0x86dd) {
      proto = frame[ip + 6]!;
      ipEnd = ip + 40;
    } else continue;
    if (proto !== 6) continue;
    ip = ipEnd;
    const src = (frame[ip]! << 8) | frame[ip + 1]!;
    const dst = (frame[ip + 2]! << 8) | frame[ip + 3]!;
    const seq =
      ((frame[ip + 4]! << 24) >>> 0) + ((frame[ip + 5]! << 16) | (frame[ip + 6]! << 8) | frame[ip + 7]!);
    const payload = frame.subarray(ip + (frame[ip + 12]! >> 4) * 4);
    if (payload.length === 0) continue;
    if (dst === port) segments.toPort.set(seq, payload.slice());
    else if (src === port) segments.fromPort.set(seq, payload.slice());
  }
  const join = (m: Map<number, Uint8Array>): Uint8Array =>
    concatBytes([...m.entries()].sort(([a], [b]) => a - b).map(([, p]) => p));
  return { toPort: join(segments.toPort), fromPort: join(segments.fromPort) };
}
