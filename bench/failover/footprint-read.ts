/**
 * What the footprint part of bench:failover reads about a speaker besides VmRSS, so that the next
 * regression shows its cause in the report: the resident set split into anonymous memory (what
 * the process allocated: V8 heaps, malloc) and file pages (the node binary's code touched so
 * far, e.g. OpenSSL's once TLS runs), and its sockets by kind (connections to the API server,
 * BGP, packet sockets of the L2 engine). Pure but for speakerDetail, which reads /proc.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The resident set and its anonymous and file parts (MB) from the text of /proc/PID/status. */
export function rssPartsMb(status: string): { rss: number; anon: number; file: number } {
  const kb = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} line in /proc/PID/status`);
    return Number(match[1]);
  };
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
}

/** The text of the process's /proc/PID/net tables (those present), by name: tcp, tcp6, udp, ... */
export type NetTables = Readonly<
  Partial<Record<'tcp' | 'tcp6' | 'udp' | 'udp6' | 'raw' | 'raw6' | 'packet' | 'netlink' | 'unix', string>>
>;

/** Column of the inode in each table's rows (after splitting on whitespace). */
const INODE_COLUMN = {
  tcp: 9,
  tcp6: 9,
  udp: 9,
  udp6: 9,
  raw: 9,
  raw6: 9,
  packet: 8,
  netlink: 9,
  unix: 6,
} as const;
const TCP_ESTABLISHED = '01';
const TCP_LISTEN = '0A';

/**
 * The process's sockets (the `socket:[inode]` targets of /proc/PID/fd/*) by kind, looked up in its
 * network namespace's tables: `tcp to :PORT` (established connections, by the remote port),
 * `tcp listen`, `tcp other` (other TCP states), `udp`, `raw`, `packet`, `netlink`, `unix`, and
 * `unknown` for an inode in no table. Counts, sorted by kind.
 */
export function socketKinds(fdTargets: readonly string[], tables: NetTables): Map<string, number> {
  const inodes = new Set<string>();
  for (const target of fdTargets) {
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match?.[1]) inodes.add(match[1]);
  }
  const kinds = new Map<string, number>();
  const add = (kind: string): void => {
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  };
  const found = new Set<string>();
  for (const [table, column] of Object.entries(INODE_COLUMN) as [keyof typeof INODE_COLUMN, number][]) {
    for (const row of (tables[table] ?? '').split('\n').slice(1)) {
      const cells = row.trim().split(/\s+/);
      const inode = cells[column];
      if (inode === undefined || !inodes.has(inode) || found.has(inode)) continue;
      found.add(inode);
      if (table === 'tcp' || table === 'tcp6') {
        const state = cells[3];
        const remotePort = Number.parseInt(cells[2]?.split(':')[1] ?? '', 16);
        add(
          state === TCP_ESTABLISHED
            ? `tcp to :${remotePort}`
            : state === TCP_LISTEN
              ? 'tcp listen'
              : 'tcp other',
        );
      } else add(table.replace(/6$/, ''));
    }
  }
  for (const inode of inodes) if (!found.has(inode)) add('unknown');
  return new Map([...kinds.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** `12 sockets (tcp to :443 10, udp 2)`: a count and its kinds, for the report. */
export function formatSockets(kinds: ReadonlyMap<string, number>): string {
  const total = [...kinds.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return '0 sockets';
  return `${total} sockets (${[...kinds.entries()].map(([k, n]) => `${k} ${n}`).join(', ')})`;
}

/**
 * What the resident set is made of (anonymous memory vs the binary's file pages), the threads and
 * the sockets by kind (connections to the API server, BGP, packet sockets), for the report.
 */
export function speakerDetail(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const { anon, file } = rssPartsMb(status);
  const threads = /^Threads:\s+(\d+)$/m.exec(status)?.[1] ?? '?';
  const fd = `/proc/${pid}/fd`;
  const targets = readdirSync(fd).flatMap((f) => {
    try {
      return [readlinkSync(`${fd}/${f}`)];
    } catch {
      return []; // closed since the listing
    }
  });
  const tables: Record<string, string> = {};
  for (const t of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'packet', 'netlink', 'unix']) {
    try {
      tables[t] = readFileSync(`/proc/${pid}/net/${t}`, 'utf8');
    } catch {
      // a table this kernel lacks
    }
  }
  return `anon ${anon.toFixed(1)} + file ${file.toFixed(1)} MB, ${threads} threads, ${formatSockets(socketKinds(targets, tables as NetTables))}`;
}
