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
