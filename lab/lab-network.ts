/**
 * The lab topology's network, built from the address plan: the LAN bridge, the client and the
 * router with the far side between them, and the nodes, each with the sysctls and routes a
 * Kubernetes node would have. Namespaces, links and routes only; no process runs yet.
 */
import { LAB_ADDRESSES } from './address-plan.ts';
import type { Lab, LabLink } from './netns.ts';
import type { LabNodeInfo } from './objects.ts';

const NODE_SYSCTLS = [
  // A node accepts VIP traffic (local routes) but must not answer ARP for it: only the
  // speaker answers, and only on the owner (DESIGN.md facts).
  'net.ipv4.conf.all.arp_ignore=1',
  'net.ipv4.conf.default.arp_ignore=1',
  'net.ipv4.conf.all.arp_announce=2',
  'net.ipv4.conf.default.arp_announce=2',
] as const;

/** The nodes made, in order, each with its LAN link. */
export interface LabNetwork {
  readonly nodeInfos: readonly LabNodeInfo[];
  readonly links: readonly LabLink[];
}

/** Makes the namespaces and links of the topology in `lab`; `signal` aborts between nodes. */
export async function buildLabNetwork(
  lab: Lab,
  options: { nodeCount: number; bgpRanges?: readonly string[]; signal?: AbortSignal },
): Promise<LabNetwork> {
  const A = LAB_ADDRESSES;
  await lab.addBridge('lan');
  await lab.addHost('client');
  await lab.addHost('router', { router: true });
  // Hash on ports too (L4), so several connections from one client spread over the ECMP paths.
  await lab.exec('router', [
    'sysctl',
    '-qw',
    'net.ipv4.fib_multipath_hash_policy=1',
    'net.ipv6.fib_multipath_hash_policy=1',
    'net.ipv4.conf.all.send_redirects=0',
  ]);
  await lab.connect('router', { ipv4: `${A.router.ipv4}/24`, ipv6: `${A.router.ipv6}/64` });
  await lab.connect('client', { ipv4: `${A.client.ipv4}/24`, ipv6: `${A.client.ipv6}/64` });
  // The far side: a point-to-point leg client eth1 <-> router eth1 (IPv4 transit range; IPv6
  // over link-local next hops only, so no address outside the plan is needed).
  await lab.connectPair(
    { host: 'client', ifName: 'eth1', ipv4: `${A.client.far}/24` },
    { host: 'router', ifName: 'eth1', ipv4: `${A.router.far}/24`, ipv6: `${A.router.farLinkLocal}/64` },
  );
  // Client: Service IPs on-link on the LAN (L2), the BGP ranges through the router's far side.
  await lab.ip('client', ['route', 'add', A.servicePools.ipv4, 'dev', 'eth0']);
  await lab.ip('client', ['-6', 'route', 'add', A.servicePools.ipv6, 'dev', 'eth0']);
  for (const range of options.bgpRanges ?? A.bgpRanges) {
    if (range.includes(':')) {
      await lab.ip('client', ['-6', 'route', 'add', range, 'via', A.router.farLinkLocal, 'dev', 'eth1']);
    } else {
      await lab.ip('client', ['route', 'add', range, 'via', A.router.far, 'dev', 'eth1']);
    }
  }

  const nodeInfos: LabNodeInfo[] = [];
  const links: LabLink[] = [];
  for (let n = 1; n <= options.nodeCount; n++) {
    options.signal?.throwIfAborted();
    const name = `node-${n}`;
    const addr = A.node(n);
    await lab.addHost(name);
    await lab.exec(name, ['sysctl', '-qw', ...NODE_SYSCTLS]);
    links.push(await lab.connect(name, { ipv4: `${addr.ipv4}/24`, ipv6: `${addr.ipv6}/64` }));
    await lab.exec(name, [
      'sysctl',
      '-qw',
      'net.ipv4.conf.eth0.arp_ignore=1',
      'net.ipv4.conf.eth0.arp_announce=2',
    ]);
    // What kube-proxy does: the node accepts traffic for every Service IP.
    await lab.ip(name, ['route', 'add', 'local', A.servicePools.ipv4, 'dev', 'lo']);
    await lab.ip(name, ['-6', 'route', 'add', 'local', A.servicePools.ipv6, 'dev', 'lo']);
    // Replies to the far side go back through the router.
    await lab.ip(name, ['route', 'add', A.farSide, 'via', A.router.ipv4]);
    nodeInfos.push({ name, ...addr });
  }
  return { nodeInfos, links };
}
