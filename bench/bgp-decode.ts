import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BgpFramer, BgpMessageError, type CodecContext, decodeMessage } from '../speaker/bgp/codec/index.ts';
import { concatBytes } from '../speaker/bgp/codec/test-helpers.ts';

// CPU cost of one received message of the largest size a peer may send (65,535 octets with
// RFC 8654 extended messages), for inputs built to be expensive: duplicate attributes, the
// most prefixes, AS numbers, segments, communities, errors a message can hold; and the framer
// fed that message in 1-octet chunks. The anchor is a well-formed 64 KiB UPDATE of /24s
// decoded in the same run; the worst case is printed with its ratio to it.
//
//   npm run bench:bgp-decode -- [--min-ms 300]

const { values } = parseArgs({ options: { 'min-ms': { type: 'string', default: '300' } } });
const minMs = Number(values['min-ms']);
const context: CodecContext = { fourOctetAs: true, extendedMessage: true, externalPeer: true };
const MAX = 65535;

/** A whole message: marker, length, type, body. */
function message(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(19 + body.length);
  out.fill(0xff, 0, 16);
  out[16] = out.length >> 8;
  out[17] = out.length & 0xff;
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** An UPDATE body: withdrawn routes, path attributes, NLRI. */
function update(withdrawn: Uint8Array, attributes: Uint8Array, nlri: Uint8Array): Uint8Array {
  const body = new Uint8Array(4 + withdrawn.length + attributes.length + nlri.length);
  body[0] = withdrawn.length >> 8;
  body[1] = withdrawn.length & 0xff;
  body.set(withdrawn, 2);
  const at = 2 + withdrawn.length;
  body[at] = attributes.length >> 8;
  body[at + 1] = attributes.length & 0xff;
  body.set(attributes, at + 2);
  body.set(nlri, at + 2 + attributes.length);
  return message(2, body);
}

/** One attribute, extended length when needed. */
function attr(flags: number, type: number, value: Uint8Array): Uint8Array {
  const extended = value.length > 255;
  const header = extended
    ? [flags | 0x10, type, value.length >> 8, value.length & 0xff]
    : [flags & ~0x10, type, value.length];
  const out = new Uint8Array(header.length + value.length);
  out.set(header);
  out.set(value, header.length);
  return out;
}

/** Repeats a unit as often as it fits in `room` octets. */
function fill(unit: (i: number) => Uint8Array, room: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let used = 0;
  for (let i = 0; ; i++) {
    const part = unit(i);
    if (used + part.length > room) break;
    parts.push(part);
    used += part.length;
  }
  return concatBytes(parts);
}

const ROOM = MAX - 19 - 4;
/** Known attribute types whose errors the session survives (not MP_REACH / MP_UNREACH). */
const KNOWN = [1, 2, 3, 4, 5, 6, 7, 8, 17, 18, 32];
const mandatory = concatBytes([
  attr(0x40, 1, Uint8Array.of(0)),
  attr(0x40, 2, Uint8Array.of(2, 1, 0, 0, 0xfd, 0xe8)),
  attr(0x40, 3, Uint8Array.of(192, 0, 2, 1)),
]);
const u32 = (v: number) => Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
/** The largest AS_PATH value that fits in `room`: 4-octet AS numbers in full segments. */
function longPath(room: number, segmentAsns: number): Uint8Array {
  return fill(
    (i) =>
      concatBytes([
        Uint8Array.of(2, segmentAsns),
        ...Array.from({ length: segmentAsns }, (_, k) => u32(64512 + ((i + k) % 1000))),
      ]),
    room,
  );
}

/** ORIGIN, AS_PATH and an IPv6 MP_REACH_NLRI filled with the prefix `unit` makes. */
function mpReachUpdate(unit: (i: number) => Uint8Array): Uint8Array {
  const head = concatBytes([
    Uint8Array.of(0, 2, 1, 16),
    Uint8Array.of(0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 1),
    Uint8Array.of(0),
  ]);
  const reach = attr(0x80, 14, concatBytes([head, fill(unit, ROOM - 13 - 4 - head.length)]));
  return update(new Uint8Array(0), concatBytes([mandatory.subarray(0, 13), reach]), new Uint8Array(0));
}

/** ORIGIN, NEXT_HOP and the longest AS_PATH of segments of `segmentAsns` AS numbers. */
function longPathUpdate(segmentAsns: number): Uint8Array {
  const path = attr(0x40, 2, longPath(ROOM - 4 - 4 - 7, segmentAsns));
  return update(
    new Uint8Array(0),
    concatBytes([mandatory.subarray(0, 4), path, mandatory.subarray(13)]),
    new Uint8Array(0),
  );
}

const cases: { name: string; bytes: Uint8Array }[] = [
  {
    name: 'anchor: NLRI of /24s (well-formed)',
    bytes: update(
      new Uint8Array(0),
      mandatory,
      fill((i) => Uint8Array.of(24, 198, (i >> 8) & 0xff, i & 0xff), ROOM - mandatory.length),
    ),
  },
  {
    name: 'duplicate optional attributes (0-length, unknown type)',
    bytes: update(
      new Uint8Array(0),
      fill(() => Uint8Array.of(0x80, 99, 0), ROOM),
      new Uint8Array(0),
    ),
  },
  {
    name: 'duplicate MULTI_EXIT_DISC',
    bytes: update(
      new Uint8Array(0),
      fill(() => attr(0x80, 4, u32(1)), ROOM),
      new Uint8Array(0),
    ),
  },
  {
    name: 'duplicate LOCAL_PREF from an external peer',
    bytes: update(
      new Uint8Array(0),
      fill(() => attr(0x40, 5, u32(1)), ROOM),
      new Uint8Array(0),
    ),
  },
  {
    name: 'every known attribute with a flags error, repeated',
    bytes: update(
      new Uint8Array(0),
      fill((i) => Uint8Array.of(0xe0, KNOWN[i % KNOWN.length]!, 0), ROOM),
      new Uint8Array(0),
    ),
  },
  {
    name: 'NLRI of /0s (most prefixes)',
    bytes: update(
      new Uint8Array(0),
      mandatory,
      fill(() => Uint8Array.of(0), ROOM - mandatory.length),
    ),
  },
  {
    name: 'withdrawn /32s',
    bytes: update(
      fill((i) => Uint8Array.of(32, 198, 51, (i >> 8) & 0xff, i & 0xff), ROOM),
      new Uint8Array(0),
      new Uint8Array(0),
    ),
  },
  {
    name: 'MP_REACH IPv6 NLRI of /0s',
    bytes: mpReachUpdate(() => Uint8Array.of(0)),
  },
  {
    name: 'MP_REACH IPv6 NLRI of /128s',
    bytes: mpReachUpdate((i) =>
      Uint8Array.of(128, 0x20, 1, 0x0d, 0xb8, ...new Array(10).fill(0), (i >> 8) & 0xff, i & 0xff),
    ),
  },
  {
    name: 'MP_UNREACH IPv6 /64s',
    bytes: update(
      new Uint8Array(0),
      attr(
        0x80,
        15,
        concatBytes([
          Uint8Array.of(0, 2, 1),
          fill((i) => Uint8Array.of(64, 0x20, 1, 0x0d, 0xb8, 0, 0, (i >> 8) & 0xff, i & 0xff), ROOM - 7),
        ]),
      ),
      new Uint8Array(0),
    ),
  },
  {
    name: 'AS_PATH of 255-AS segments (most AS numbers)',
    bytes: longPathUpdate(255),
  },
  {
    name: 'AS_PATH of 1-AS segments (most segments)',
    bytes: longPathUpdate(1),
  },
  {
    name: 'COMMUNITIES (most values)',
    bytes: update(
      new Uint8Array(0),
      attr(
        0xc0,
        8,
        fill((i) => u32(i), ROOM - 4),
      ),
      new Uint8Array(0),
    ),
  },
  {
    name: 'LARGE_COMMUNITY (most values)',
    bytes: update(
      new Uint8Array(0),
      attr(
        0xc0,
        32,
        fill((i) => concatBytes([u32(i), u32(1), u32(2)]), ROOM - 4),
      ),
      new Uint8Array(0),
    ),
  },
  {
    name: 'unknown optional attributes, 255 types of ~250 octets',
    bytes: update(
      new Uint8Array(0),
      fill((i) => attr(0xc0, 33 + (i % 200), new Uint8Array(250)), ROOM),
      new Uint8Array(0),
    ),
  },
  {
    name: 'NOTIFICATION with 64 KiB of data',
    bytes: message(3, concatBytes([Uint8Array.of(6, 2), new Uint8Array(MAX - 21)])),
  },
  {
    name: 'malformed ROUTE-REFRESH of 64 KiB (error carries it)',
    bytes: message(5, new Uint8Array(MAX - 19)),
  },
];

/** Median time of one call, in microseconds, over batches run for at least `minMs`. */
function timeUs(run: () => void): number {
  for (let i = 0; i < 3; i++) run();
  const samples: number[] = [];
  const start = performance.now();
  while (performance.now() - start < minMs || samples.length < 5) {
    const t0 = performance.now();
    run();
    samples.push((performance.now() - t0) * 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

function decodeOnce(bytes: Uint8Array): string {
  try {
    const m = decodeMessage(bytes, context);
    return m.type === 'update' && m.errors ? `${m.errors.length} errors kept` : m.type;
  } catch (error) {
    if (!(error instanceof BgpMessageError)) throw error;
    return `NOTIFICATION ${error.code}/${error.subcode}`;
  }
}

const rows: { name: string; us: number; verdict: string }[] = [];
for (const c of cases) {
  if (c.bytes.length > MAX) throw new Error(`${c.name}: ${c.bytes.length} octets`);
  const verdict = decodeOnce(c.bytes);
  rows.push({ name: `${c.name} [${c.bytes.length} B]`, us: timeUs(() => decodeOnce(c.bytes)), verdict });
}

// The framer as the session uses it (frame and decode) on the anchor cut into chunks of several
// sizes; "feeding" is the loop alone that cuts 1-octet views, the cost outside the framer.
const anchor = cases[0]!.bytes;
const pushed = (chunk: number) => () => {
  const framer = new BgpFramer(context);
  for (let at = 0; at < anchor.length; at += chunk)
    for (const _ of framer.push(anchor.subarray(at, at + chunk)));
};
for (const size of [anchor.length, 1460, 16, 1]) {
  rows.push({
    name: `framer + decode: the anchor in ${size}-octet chunks`,
    us: timeUs(pushed(size)),
    verdict: 'frame',
  });
}
let fed = 0;
rows.push({
  name: 'feeding: 1-octet views of the anchor, no framer',
  us: timeUs(() => {
    for (let at = 0; at < anchor.length; at++) fed += anchor.subarray(at, at + 1).length;
  }),
  verdict: 'frame',
});

const anchorUs = rows[0]!.us;
const width = Math.max(...rows.map((r) => r.name.length));
console.log(
  `node ${process.version}; median µs per 64 KiB message; ratio = / anchor (${anchorUs.toFixed(0)} µs)`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(width)}  ${r.us.toFixed(0).padStart(8)} µs  ${(r.us / anchorUs).toFixed(2).padStart(6)}×  ${r.verdict}`,
  );
}
const decodeRows = rows.filter((r) => r.verdict !== 'frame');
const worst = decodeRows.reduce((a, b) => (b.us > a.us ? b : a));
console.log(
  `worst decode: ${worst.name}: ${(worst.us / 1000).toFixed(2)} ms (${(worst.us / anchorUs).toFixed(2)}× the anchor)`,
);
const framed = rows.filter((r) => r.verdict === 'frame');
const oneOctet = framed[3]!.us - framed[4]!.us;
console.log(
  `framer: 1-octet chunks cost ${(oneOctet / framed[0]!.us).toFixed(2)}× one chunk, the feeding loop subtracted (${fed > 0 ? 'fed' : 'not fed'})`,
);
