import { Lab, type LabLink, type LinkAddresses } from '../../lab/netns.ts';

/**
 * The setup most namespace tests start from: a lab whose hosts share one bridge, each host
 * connected with its addresses, in the order given. A failure on the way destroys the lab, so
 * no namespace outlives a test that could not start.
 */
export async function startLan<H extends string>(
  prefix: string,
  hosts: Readonly<Record<H, LinkAddresses>>,
): Promise<{ lab: Lab; links: Record<H, LabLink> }> {
  const lab = await Lab.create(prefix);
  try {
    await lab.addBridge();
    const entries = Object.entries(hosts) as [H, LinkAddresses][];
    for (const [host] of entries) await lab.addHost(host);
    const links = {} as Record<H, LabLink>;
    for (const [host, addresses] of entries) links[host] = await lab.connect(host, addresses);
    return { lab, links };
  } catch (error) {
    await lab.destroy();
    throw error;
  }
}
