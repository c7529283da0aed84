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

/** ARPHRD_ETHER (linux/if_arp.h): the only link type ARP and NDP are answered on. */
const ARPHRD_ETHER = 1;

/**
 * Picks the interfaces to announce on. `listed` names are taken if eligible, even
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

/**
 * Whether the LAN has carrier here: among the interfaces the announcer uses or would use if they
 * had carrier (the `listed` names and the ones `exclude` leaves, as in selectInterfaces, up and
 * running or not), whether one is up and running. Undefined when there is no such interface:
 * nothing to tell (the split-brain guard then goes by the API server alone).
 */
export function lanCarrier(
  links: readonly LinkInfo[],
  options: { listed?: readonly string[] | undefined; exclude?: RegExp | undefined } = {},
): boolean | undefined {
  const candidates = links.map((link) => ({ ...link, up: true, running: true }));
  const names = new Set(
    [
      ...selectInterfaces(candidates, { listed: options.listed ?? [], exclude: /$^/ }).selected,
      ...selectInterfaces(candidates, { exclude: options.exclude }).selected,
    ].map((link) => link.name),
  );
  if (names.size === 0) return undefined;
  return links.some((link) => names.has(link.name) && link.up && link.running);
}
