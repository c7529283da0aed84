import { Lab, type LabLink, type LinkAddresses } from '../../lab/netns.ts';

/** A host on the LAN: its addresses, and `router` for one that forwards (see Lab.addHost). */
export type LanHost = LinkAddresses & { readonly router?: boolean };

/**
 * The setup most namespace tests start from: a lab whose hosts share one bridge, each host
 * connected with its addresses, in the order given. A failure on the way destroys the lab, so
 * no namespace outlives a test that could not start.
 */
export async function startLan<H extends string>(
  prefix: string,
  hosts: Readonly<Record<H, LanHost>>,
): Promise<{ lab: Lab; links: Record<H, LabLink> }> {
  const lab = await Lab.create(prefix);
  try {
    await lab.addBridge();
    const entries = Object.entries(hosts) as [H, LanHost][];
    for (const [host, { router }] of entries) await lab.addHost(host, router ? { router } : {});
    const links = {} as Record<H, LabLink>;
    for (const [host, { ipv4, ipv6 }] of entries) links[host] = await lab.connect(host, { ipv4, ipv6 });
    return { lab, links };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}

/**
 * Makes `host` accept traffic for service IPs it does not hold on an interface, as every node
 * running the ingress does: a `local` route per IP on `lo`, and arp_ignore=1 / arp_announce=2 so
 * that the kernel does not answer ARP for them (only the speaker or responder under test does; the
 * kernel never answers NS for such IPv6 addresses).
 */
export async function acceptVips(lab: Lab, host: string, vips: readonly string[]): Promise<void> {
  await lab.exec(host, [
    'sysctl',
    '-qw',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
  ]);
  for (const vip of vips) {
    const v6 = vip.includes(':');
    await lab.ip(host, [
      ...(v6 ? ['-6'] : []),
      'route',
      'add',
      'local',
      `${vip}/${v6 ? 128 : 32}`,
      'dev',
      'lo',
    ]);
  }
}
