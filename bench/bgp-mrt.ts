/**
 * A minimal MRT TABLE_DUMP_V2 file (RFC 6396 §4.3) holding IPv6 unicast routes, so GoBGP can be
 * fed by `gobgp mrt inject global`, its fastest bulk path, in the BGP benchmark.
 */

function u16(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}
function u32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function record(subtype: number, body: number[] | Uint8Array): Uint8Array {
  const header = [...u32(0), ...u16(13), ...u16(subtype), ...u32(body.length)]; // type 13 TABLE_DUMP_V2
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/**
 * `count` /64 prefixes `2001:db8:HHHH:LLLL::/64` (i = 0..count-1 in the two 16-bit groups after
 * 2001:db8), originated by `peerAs` with next hop `nextHop` (16 octets).
 */
export function mrtIpv6Dump(
  count: number,
  peerAs: number,
  peerId: number[],
  nextHop: number[],
  padding = 0,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  // PEER_INDEX_TABLE (subtype 1): collector id, empty view name, one IPv6 peer with a 4-octet AS.
  chunks.push(record(1, [...peerId, ...u16(0), ...u16(1), 0x03, ...peerId, ...nextHop, ...u32(peerAs)]));
  // Attributes shared by every entry: ORIGIN IGP, AS_PATH [peerAs] (4-octet in MRT), and
  // MP_REACH_NLRI with AFI/SAFI, next hop and no NLRI: GoBGP's reader wants this full form,
  // not the abbreviated one of RFC 6396 §4.3.4.
  const attrs = [
    ...[0x40, 1, 1, 0],
    ...[0x40, 2, 6, 2, 1, ...u32(peerAs)],
    ...[0x80, 14, 21, ...u16(2), 1, 16, ...nextHop, 0],
  ];
  // gobgp 3.10's `mrt inject` exits right after its last stream Send, so the final few hundred
  // records can be lost; `padding` trailing records repeat prefix 0 (no new route) to absorb that.
  for (let k = 0; k < count + padding; k++) {
    const i = k < count ? k : 0;
    const prefix = [0x20, 0x01, 0x0d, 0xb8, (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff];
    const body = [...u32(k), 64, ...prefix, ...u16(1), ...u16(0), ...u32(0), ...u16(attrs.length), ...attrs];
    chunks.push(record(4, body)); // RIB_IPV6_UNICAST
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The same prefixes as text, one per line, for `metalbeacon bgp --announce-file`. */
export function ipv6Prefixes(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(`2001:db8:${((i >>> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::/64`);
  }
  return `${lines.join('\n')}\n`;
}
