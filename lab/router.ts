/**
 * The lab router: BIRD 2 in the router namespace, one eBGP session per node (IPv4 and IPv6
 * routes over the node's IPv4 session, as the speaker sends them), every BGP route imported,
 * and equal paths merged into one ECMP route in the router's kernel table (`merge paths`), so
 * traffic from the far side spreads across the announcing nodes. Routes carrying the
 * GRACEFUL_SHUTDOWN community get LOCAL_PREF 0 (RFC 8326 §4, the policy operators configure),
 * so a draining node leaves the ECMP route while its session is still up. Pure config text
 * and `birdc` / `ip monitor` output parsing; the topology runs the daemon.
 */

/**
 * BIRD filter `gshut`: RFC 8326 §4 receiver policy. Routes tagged GRACEFUL_SHUTDOWN get
 * LOCAL_PREF 0 and so lose to every other path: traffic leaves a draining peer before its
 * session closes.
 */
export const GRACEFUL_SHUTDOWN_FILTER =
  'filter gshut { if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept; }';

/** One node the router peers with. */
export interface RouterNeighbor {
  /** BIRD protocol name (letters, digits, underscores). */
  name: string;
  /** The node's LAN IPv4 address (the session runs over IPv4, both families in it). */
  address: string;
}

/** Options of the router's BIRD config. */
export interface RouterConfigOptions {
  routerId: string;
  /** The router's LAN IPv4 address, bound by BIRD (`strict bind`). */
  localAddress: string;
  localAs: number;
  peerAs: number;
  neighbors: readonly RouterNeighbor[];
  /** Hold time BIRD proposes (seconds; the smaller of both sides wins). */
  holdTimeSec?: number;
  /**
   * BFD with every node (`protocol bfd`, and `bfd on` or `bfd graceful` per {@link BirdBfd.graceful}):
   * a BFD Down takes the BGP session down.
   */
  bfd?: BirdBfd;
}

/** BIRD 2 configuration text of the lab router. */
export function routerBirdConfig(o: RouterConfigOptions): string {
  const lines = [
    `router id ${o.routerId};`,
    'log stderr all;',
    'protocol device { scan time 2; }',
    GRACEFUL_SHUTDOWN_FILTER,
    // ECMP: the best routes of equal preference from several nodes become one multipath route.
    'protocol kernel kernel4 { ipv4 { import none; export all; }; merge paths on limit 16; }',
    'protocol kernel kernel6 { ipv6 { import none; export all; }; merge paths on limit 16; }',
    ...(o.bfd ? [birdBfdProtocol(o.bfd)] : []),
  ];
  for (const n of o.neighbors) {
    lines.push(
      ...birdBgpProtocol({ ...n, localAddress: o.localAddress, localAs: o.localAs, peerAs: o.peerAs }, [
        ...(o.holdTimeSec !== undefined ? [`  hold time ${o.holdTimeSec};`] : []),
        ...(o.bfd ? [`  bfd ${o.bfd.graceful ? 'graceful' : 'on'};`] : []),
        // eBGP needs explicit import (RFC 8212 default in BIRD); the router exports nothing back.
        '  ipv4 { import filter gshut; export none; };',
        '  ipv6 { import filter gshut; export none; };',
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The two ends of one BGP session in BIRD's terms. */
export interface BirdBgpSession {
  /** BIRD protocol name (letters, digits, underscores). */
  readonly name: string;
  readonly localAddress: string;
  readonly localAs: number;
  readonly address: string;
  readonly peerAs: number;
}

/**
 * A `protocol bgp` block as every BIRD of the lab runs it: listening on its own address only
 * (`strict bind`), and retrying after seconds instead of BIRD's default minutes, so a session
 * the lab breaks on purpose comes back within a test's wait; `options` are the indented lines
 * particular to the session (hold time, BFD, channels).
 */
export function birdBgpProtocol(session: BirdBgpSession, options: readonly string[]): string[] {
  return [
    `protocol bgp ${session.name} {`,
    `  local ${session.localAddress} as ${session.localAs};`,
    `  neighbor ${session.address} as ${session.peerAs};`,
    '  strict bind on;',
    '  connect retry time 1;',
    '  error wait time 1, 5;',
    ...options,
    '}',
  ];
}

/** BIRD's `protocol bfd`: the timers of its sessions, single hop and multihop alike. */
export interface BirdBfd {
  readonly minRxMs: number;
  readonly minTxMs: number;
  readonly multiplier: number;
  /** Wait for the peer's first packet (RFC 5880 §6.1 passive role). */
  readonly passive?: boolean;
  /**
   * BGP sessions with `bfd graceful` instead of `bfd on`: a BFD Down of a session that negotiated
   * graceful restart (RFC 4724) starts a graceful restart (the routes stay, stale) instead of
   * closing it. BIRD 2 counts a received AdminDown as a BFD Down (it does not follow RFC 5882
   * §3.2), so without this a speaker restart with BFD loses its routes despite graceful restart.
   * Sessions without graceful restart go down either way.
   */
  readonly graceful?: boolean;
  /** Sessions of BFD's own, without a BGP session asking for them (`neighbor ADDR [multihop on]`). */
  readonly neighbors?: readonly {
    readonly address: string;
    /** Our address toward it (BIRD requires one for multihop). */
    readonly local?: string;
    readonly multihop?: boolean;
  }[];
}

/** One line of `birdc show bfd sessions`. */
export interface BirdBfdSession {
  readonly address: string;
  readonly interface: string;
  readonly state: string;
  /** BIRD's "Since" column, as text (changes on every state change). */
  readonly since: string;
  /** The negotiated transmit interval and the detection timeout, seconds. */
  readonly intervalSec: number;
  readonly timeoutSec: number;
}

/** BIRD's `protocol bfd` block: the same timers on every interface and for multihop sessions. */
export function birdBfdProtocol(bfd: BirdBfd): string {
  const timers = [
    `min rx interval ${bfd.minRxMs} ms;`,
    `min tx interval ${bfd.minTxMs} ms;`,
    `multiplier ${bfd.multiplier};`,
    ...(bfd.passive ? ['passive on;'] : []),
  ].join(' ');
  const neighbors = (bfd.neighbors ?? []).map(
    (n) =>
      `  neighbor ${n.address}${n.local ? ` local ${n.local}` : ''}${n.multihop ? ' multihop on' : ''};\n`,
  );
  return `protocol bfd bfd1 {\n  interface "*" { ${timers} };\n  multihop { ${timers} };\n${neighbors.join('')}}`;
}

/** Parses `birdc show bfd sessions` (BIRD 2.0). */
export function parseBirdBfdSessions(text: string): BirdBfdSession[] {
  const sessions: BirdBfdSession[] = [];
  for (const line of text.split('\n')) {
    // "192.0.2.10   eth0   Up   12:00:01.123   0.050   0.150" (interface "---" for multihop)
    const m = /^(\S*[.:]\S*)\s+(\S+)\s+(Up|Down|Init|AdminDown)\s+(.+?)\s+([\d.]+)\s+([\d.]+)\s*$/.exec(line);
    if (!m) continue;
    sessions.push({
      address: m[1]!,
      interface: m[2]!,
      state: m[3]!,
      since: m[4]!,
      intervalSec: Number(m[5]),
      timeoutSec: Number(m[6]),
    });
  }
  return sessions;
}

/**
 * Whether two of BIRD's "Since" times (`HH:MM:SS.mmm`, maybe after a date) are one instant.
 * BIRD keeps them on its monotonic clock and turns them into wall-clock time each time it
 * prints one, from two clock readings taken apart, so the same instant can print a
 * millisecond or two off from one `birdc` call to the next. A real state change (a BFD flap,
 * a new BGP connection) lands further away than `slackMs`; tests pair this with a counter
 * on our side that moves on every reset.
 */
export function sameBirdInstant(a: string | undefined, b: string | undefined, slackMs = 20): boolean {
  const parse = (text: string | undefined) => {
    const m = /^(.*?)\s*(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text?.trim() ?? '');
    if (!m) return undefined;
    const fraction = Number(`0.${m[5] ?? '0'}`);
    return { date: m[1]!, ms: ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4]) + fraction) * 1000 };
  };
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) throw new Error(`not BIRD times: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  if (x.date !== y.date) return false;
  return Math.abs(x.ms - y.ms) <= slackMs;
}

/** One path BIRD holds for a prefix. */
export interface BirdPath {
  /** The BGP protocol (neighbor) it came from. */
  protocol: string;
  /** Next hop address (`via`). */
  via: string | undefined;
  /** BIRD marks the selected best path with `*`. */
  best: boolean;
}

/** A prefix in BIRD's table with all its paths. */
export interface BirdRoute {
  prefix: string;
  paths: BirdPath[];
}

/**
 * Parses `birdc show route [...]` output (BIRD 2.0): a prefix line, further paths of the same
 * prefix on lines starting with blanks, each followed by a `via ADDR on IF` line.
 */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let current: BirdRoute | undefined;
  for (const line of text.split('\n')) {
    // "PREFIX  unicast [PROTO TIME ...] * (100) ..." or, for further paths, the same without PREFIX.
    const pathMatch = /^(\S+)?\s+\S+\s+\[(\S+) [^\]]*\](\s+\*)?/.exec(line);
    if (pathMatch) {
      const prefix = pathMatch[1];
      if (prefix !== undefined) {
        current = { prefix, paths: [] };
        routes.push(current);
      }
      current?.paths.push({ protocol: pathMatch[2] ?? '', via: undefined, best: pathMatch[3] !== undefined });
      continue;
    }
    const via = /^\s+via\s+(\S+)/.exec(line);
    const last = current?.paths.at(-1);
    if (via && last && last.via === undefined) last.via = via[1];
  }
  return routes;
}

/** A route in a kernel table, with its next hops (several for ECMP). */
export interface KernelRoute {
  prefix: string;
  nextHops: string[];
}

/** Parses `ip -j route show ...` (single next hop `gateway`, or multipath `nexthops`). */
export function parseKernelRoutes(json: string, family: 'IPv4' | 'IPv6'): KernelRoute[] {
  const entries = JSON.parse(json || '[]') as {
    dst: string;
    gateway?: string;
    nexthops?: { gateway?: string }[];
  }[];
  return entries.map((e) => {
    const prefix = e.dst.includes('/') ? e.dst : `${e.dst}/${family === 'IPv4' ? 32 : 128}`;
    const hops = e.nexthops
      ? e.nexthops.map((h) => h.gateway).filter((g): g is string => g !== undefined)
      : e.gateway
        ? [e.gateway]
        : [];
    return { prefix, nextHops: hops };
  });
}

/** One change of a kernel route, as `ip -ts -o monitor route` prints it. */
export interface KernelRouteEvent {
  /** When `ip` printed it: epoch ms (the line's timestamp read as UTC; run `ip` with TZ=UTC). */
  atMs: number;
  prefix: string;
  /** Next hops after the change, sorted; empty when the route was deleted. */
  nextHops: string[];
}

/**
 * Parses one line of `ip -ts -o monitor route`, e.g.
 * `[2026-12-07T01:27:27.991672] 198.51.100.64 proto bird metric 32 \ nexthop via 192.0.2.12 dev eth0 ...`
 * or `[...] Deleted 198.51.100.64 via 192.0.2.12 dev eth0 proto bird metric 32`. Undefined for
 * lines that are no route (or have no timestamp).
 */
export function parseRouteMonitorLine(line: string, family: 'IPv4' | 'IPv6'): KernelRouteEvent | undefined {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)\]\s+(Deleted\s+)?(\S+)\s(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const [, stamp = '', deleted, dst = '', rest = ''] = m;
  if (!/^[0-9a-f.:]+(\/\d+)?$/i.test(dst)) return undefined;
  const [whole = '', fraction = ''] = stamp.split('.');
  const atMs = Date.parse(`${whole}Z`) + Number(`0.${fraction || '0'}`) * 1000;
  if (Number.isNaN(atMs)) return undefined;
  const prefix = dst.includes('/') ? dst : `${dst}/${family === 'IPv4' ? 32 : 128}`;
  const nextHops = deleted
    ? []
    : [...rest.matchAll(/\bvia (?:inet6? )?(\S+)/g)].map((v) => v[1] ?? '').sort();
  return { atMs, prefix, nextHops };
}
