import { readdir, readFile } from 'node:fs/promises';

/** What the announcer needs to know about one network interface (from sysfs). */
export interface LinkInfo {
  readonly name: string;
  readonly ifindex: number;
  /** Lower-case MAC. */
  readonly mac: string;
  /** ARPHRD type; 1 is Ethernet. */
  readonly type: number;
  /** IFF_UP. */
  readonly up: boolean;
  /** operstate is up or unknown (carrier present, or a device without carrier reporting). */
  readonly running: boolean;
  readonly loopback: boolean;
  /** IFF_NOARP: the link does not do ARP (e.g. kube-ipvs0, tunnels). */
  readonly noArp: boolean;
  /** Enslaved to a bridge or bond (has a master): its master answers, not it. */
  readonly enslaved: boolean;
}

/** Why an interface was not selected. */
export type SkipReason =
  | 'loopback'
  | 'down'
  | 'no-arp'
  | 'not-ethernet'
  | 'enslaved'
  | 'excluded'
  | 'not-listed';

/**
 * Names excluded unless listed explicitly: container/CNI plumbing where announcing makes
 * no sense (MetalLB skips similar ones).
 */
export const DEFAULT_EXCLUDE =
  /^(docker\d+|cni\d+|flannel\..*|cali.*|cilium_.*|lxc.*|vxlan\..*|kube-ipvs0|tunl\d+|veth.*)$/;

// linux/if.h
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFF_NOARP = 0x80;
const ARPHRD_ETHER = 1;

/**
 * Picks the interfaces to announce on (pure). `listed` names are taken if eligible, even
 * if they match `exclude`; without `listed`, every eligible interface not excluded.
 */
export function selectInterfaces(
  links: readonly LinkInfo[],
  options: { listed?: readonly string[] | undefined; exclude?: RegExp | undefined } = {},
): { selected: LinkInfo[]; skipped: { name: string; reason: SkipReason }[] } {
  const selected: LinkInfo[] = [];
  const skipped: { name: string; reason: SkipReason }[] = [];
  const exclude = options.exclude ?? DEFAULT_EXCLUDE;
  for (const link of links) {
    const listed = options.listed?.includes(link.name);
    let reason: SkipReason | undefined;
    if (options.listed && !listed) reason = 'not-listed';
    else if (link.loopback) reason = 'loopback';
    else if (link.type !== ARPHRD_ETHER) reason = 'not-ethernet';
    else if (link.noArp) reason = 'no-arp';
    else if (link.enslaved) reason = 'enslaved';
    else if (!link.up || !link.running) reason = 'down';
    else if (!listed && exclude.test(link.name)) reason = 'excluded';
    if (reason) skipped.push({ name: link.name, reason });
    else selected.push(link);
  }
  return { selected, skipped };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/**
 * Reads the interfaces of this network namespace from sysfs (no extra tools needed).
 * `wanted` skips names early: a node with hundreds of pod veths need not read them all.
 */
export async function readLinks(
  sysfsNet = '/sys/class/net',
  wanted: (name: string) => boolean = () => true,
): Promise<LinkInfo[]> {
  const names = await readdir(sysfsNet);
  const links: LinkInfo[] = [];
  for (const name of names.sort()) {
    if (!wanted(name)) continue;
    const dir = `${sysfsNet}/${name}`;
    const [ifindex, mac, type, flags, operstate, master] = await Promise.all([
      readText(`${dir}/ifindex`),
      readText(`${dir}/address`),
      readText(`${dir}/type`),
      readText(`${dir}/flags`),
      readText(`${dir}/operstate`),
      readdir(`${dir}/master`).then(
        () => true,
        () => false,
      ),
    ]);
    if (ifindex === undefined || flags === undefined) continue; // vanished while reading
    const flagBits = Number.parseInt(flags, 16);
    links.push({
      name,
      ifindex: Number(ifindex),
      mac: (mac ?? '').toLowerCase(),
      type: Number(type ?? 0),
      up: (flagBits & IFF_UP) !== 0,
      running: operstate === 'up' || operstate === 'unknown',
      loopback: (flagBits & IFF_LOOPBACK) !== 0,
      noArp: (flagBits & IFF_NOARP) !== 0,
      enslaved: master,
    });
  }
  return links;
}
