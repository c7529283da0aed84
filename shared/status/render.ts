import type { Announcement, PoolReport, ServiceReport, SessionReport, StatusReport } from './report.ts';
import { type Column, renderTable, wrapText } from './table.ts';

/** How the text view is drawn. */
export interface RenderOptions {
  /** The clock, for the ages in SINCE (ms since the epoch). */
  readonly nowMs: number;
  /** Terminal width; Infinity (output to a pipe or file) never cuts a cell. */
  readonly width?: number;
}

/**
 * A duration as kubectl prints ages (k8s.io/apimachinery duration.HumanDuration): seconds below
 * two minutes, minutes and seconds below ten, then coarser units as the age grows.
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '<unknown>';
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600);
  const days = Math.floor(hours / 24);
  if (seconds < 120) return `${seconds}s`;
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
}

function age(since: string | null, nowMs: number): string {
  if (!since) return '<unknown>';
  const t = Date.parse(since);
  return Number.isNaN(t) ? since : formatAge(nowMs - t);
}

/** `node-a (eth0)` for L2; `node-b -> r1, r2 (Active)` for BGP, naming any session not Established. */
export function describeAnnouncement(a: Announcement): string {
  if (a.protocol === 'L2')
    return a.interfaces.length === 0 ? a.node : `${a.node} (${a.interfaces.join(', ')})`;
  if (a.peers.length === 0) return `${a.node} -> (no peer)`;
  const peers = a.peers.map((p) =>
    p.state === 'Established' ? p.name : `${p.name} (${p.state ?? 'no session'})`,
  );
  return `${a.node} -> ${peers.join(', ')}`;
}

function serviceRow(s: ServiceReport): string[] {
  const announcedBy =
    s.state === 'pending'
      ? s.pendingReason
        ? `${s.pendingReason.reason}: ${s.pendingReason.message}`
        : '<none>'
      : s.announcements.length === 0
        ? '<none>'
        : s.announcements.map(describeAnnouncement).join('; ');
  return [
    `${s.namespace}/${s.name}`,
    s.ips.length === 0 ? '<pending>' : s.ips.join(', '),
    s.pool ?? '-',
    s.protocol ?? '-',
    announcedBy,
  ];
}

function sessionRow(s: SessionReport, nowMs: number): string[] {
  return [
    s.node,
    s.peer,
    s.peerAddress ?? '-',
    sessionState(s),
    age(s.since, nowMs),
    s.prefixesAdvertised === null ? '-' : String(s.prefixesAdvertised),
    s.lastError ?? '',
  ];
}

/** The session's state, then its BFD session's (with why it is not Up) when the peer runs BFD. */
export function sessionState(s: Pick<SessionReport, 'state' | 'bfd'>): string {
  if (!s.bfd) return s.state;
  const why = s.bfd.state !== 'Up' && s.bfd.diagnostic && s.bfd.diagnostic !== 'NoDiagnostic';
  return `${s.state}, BFD ${s.bfd.state}${why ? ` (${s.bfd.diagnostic})` : ''}`;
}

/** `used/free` of one family, or `-` when the pool has no address of that family (both 0 or absent). */
export function familyUsage(used: string | null, free: string | null): string {
  if (used === null && free === null) return '-';
  if ((used ?? '0') === '0' && (free ?? '0') === '0') return '-';
  return `${used ?? '?'}/${free ?? '?'}`;
}

function poolRow(p: PoolReport): string[] {
  const config = p.configValid
    ? p.configValid.status === 'True'
      ? 'valid'
      : `${p.configValid.reason}: ${p.configValid.message}`
    : '<unknown>';
  return [
    p.name,
    p.addresses.join(', '),
    familyUsage(p.assigned.IPv4, p.available.IPv4),
    familyUsage(p.assigned.IPv6, p.available.IPv6),
    config,
  ];
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The one-line summary heading the text view. */
export function summaryLine(report: StatusReport): string {
  const pending = report.services.filter((s) => s.state === 'pending').length;
  const down = report.bgpSessions.filter((s) => s.state !== 'Established').length;
  const invalid = report.pools.filter((p) => p.configValid?.status !== 'True').length;
  const parts = [
    `${plural(report.services.length, 'LoadBalancer Service')}${pending ? ` (${pending} pending)` : ''}`,
    `${plural(report.bgpSessions.length, 'BGP session')}${down ? ` (${down} not Established)` : ''}`,
    `${plural(report.pools.length, 'pool')}${invalid ? ` (${invalid} not in force)` : ''}`,
    plural(report.problems.length, 'problem'),
  ];
  const cls = report.lbClass === null ? '' : `, loadBalancerClass ${report.lbClass}`;
  return `MetalBeacon (namespace ${report.namespace}${cls}): ${parts.join(', ')}`;
}

/** One section of the text view: its title, then its table, or `empty` when it has no row. */
function section(
  title: string,
  empty: string,
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width: number,
): string[] {
  return [title, ...(rows.length === 0 ? [empty] : renderTable(columns, rows, width))];
}

/** The screen `metalbeacon status` prints: summary, Services, BGP sessions, pools, problems. */
export function renderStatusText(report: StatusReport, options: RenderOptions): string {
  const width = options.width ?? Number.POSITIVE_INFINITY;
  const out: string[] = [...wrapText(summaryLine(report), width, '  '), ''];

  out.push(
    ...section(
      'SERVICES',
      'No LoadBalancer Services.',
      [
        { header: 'Namespace/Name', shrink: true },
        { header: 'IPs' },
        { header: 'Pool', shrink: true },
        { header: 'Mode' },
        { header: 'Announced by', shrink: true },
      ],
      report.services.map(serviceRow),
      width,
    ),
  );
  if (report.otherClassServices > 0)
    out.push(`(${plural(report.otherClassServices, 'Service')} of another loadBalancerClass not shown)`);

  out.push(
    '',
    ...section(
      'BGP SESSIONS',
      'No BGP sessions.',
      [
        { header: 'Node', shrink: true },
        { header: 'Peer', shrink: true },
        { header: 'Address' },
        { header: 'State', shrink: true },
        { header: 'Since' },
        { header: 'Prefixes', align: 'right' },
        { header: 'Last error', shrink: true },
      ],
      report.bgpSessions.map((s) => sessionRow(s, options.nowMs)),
      width,
    ),
  );

  out.push(
    '',
    ...section(
      'POOLS',
      'No IPAddressPools.',
      [
        { header: 'Name', shrink: true },
        { header: 'Addresses', shrink: true },
        { header: 'IPv4 used/free', align: 'right' },
        { header: 'IPv6 used/free', align: 'right' },
        { header: 'Config', shrink: true },
      ],
      report.pools.map(poolRow),
      width,
    ),
  );

  out.push('');
  if (report.problems.length === 0) out.push('No problems.');
  else {
    out.push(`PROBLEMS (${report.problems.length})`);
    for (const p of report.problems) out.push(...wrapText(`- ${p.object}: ${p.message}`, width, '  '));
  }
  return `${out.join('\n')}\n`;
}

/** The `-o json` text: the report, two-space indented, one trailing newline. */
export function renderStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
