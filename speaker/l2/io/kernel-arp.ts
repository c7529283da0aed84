import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The kernel's own ARP behaviour for one service IP on one interface. */
export interface KernelArpFinding {
  readonly ip: string;
  readonly interface: string;
  /** Effective arp_ignore: max(all, interface) (ip-sysctl.rst). */
  readonly arpIgnore: number;
  readonly arpAnnounce: number;
}

async function readSysctl(path: string): Promise<number> {
  try {
    return Number((await readFile(path, 'utf8')).trim());
  } catch {
    return 0;
  }
}

/** Whether `ip` is local to this host (on an interface, or routed `local`), so the kernel would answer for it. */
export async function isLocalAddress(ip: string): Promise<boolean> {
  for (const addresses of Object.values(networkInterfaces())) {
    if (addresses?.some((a) => a.address === ip)) return true;
  }
  try {
    const { stdout } = await execFileAsync('ip', [
      '-j',
      '-4',
      'route',
      'show',
      'table',
      'local',
      'type',
      'local',
    ]);
    const routes = JSON.parse(stdout || '[]') as { dst?: string }[];
    return routes.some((r) => r.dst === ip || r.dst === `${ip}/32`);
  } catch {
    return false; // no iproute2: addresses on interfaces were checked above
  }
}

/**
 * MetalLB's "strictARP" problem: when a service IP is local to the node (kube-proxy IPVS
 * puts it on kube-ipvs0; a `local` route does the same), the kernel itself answers ARP
 * for it on every interface unless arp_ignore >= 1 — so every node answers, not only the
 * elected one. Returns the interfaces where that happens (empty: no problem).
 */
export async function findKernelArpAnswers(
  ip: string,
  interfaces: readonly string[],
  procSys = '/proc/sys/net/ipv4/conf',
): Promise<KernelArpFinding[]> {
  if (ip.includes(':')) return []; // the kernel does not answer NS for such IPv6 addresses
  if (!(await isLocalAddress(ip))) return [];
  const allIgnore = await readSysctl(`${procSys}/all/arp_ignore`);
  const allAnnounce = await readSysctl(`${procSys}/all/arp_announce`);
  const findings: KernelArpFinding[] = [];
  for (const name of interfaces) {
    const arpIgnore = Math.max(allIgnore, await readSysctl(`${procSys}/${name}/arp_ignore`));
    const arpAnnounce = Math.max(allAnnounce, await readSysctl(`${procSys}/${name}/arp_announce`));
    if (arpIgnore < 1) findings.push({ ip, interface: name, arpIgnore, arpAnnounce });
  }
  return findings;
}

/** Sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 (needs CAP_NET_ADMIN / root). */
export async function setStrictArp(procSys = '/proc/sys/net/ipv4/conf'): Promise<void> {
  await writeFile(`${procSys}/all/arp_ignore`, '1\n');
  await writeFile(`${procSys}/all/arp_announce`, '2\n');
}
