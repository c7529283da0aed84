/**
 * The lab's fixed address plan (DESIGN.md), documentation ranges only: the LAN, the far side
 * behind the router, the Service pools and the BGP numbers. Everything that builds or probes a
 * lab topology reads its addresses here.
 */
export const LAB_ADDRESSES = {
  router: { ipv4: '192.0.2.1', ipv6: '2001:db8:0:1::1', far: '203.0.113.1', farLinkLocal: 'fe80::1' },
  client: { ipv4: '192.0.2.10', ipv6: '2001:db8:0:1::10', far: '203.0.113.10' },
  /** node-N gets .1N / ::1N. */
  node: (n: number) => ({ ipv4: `192.0.2.${10 + n}`, ipv6: `2001:db8:0:1::${10 + n}` }),
  /** Every Service pool, on-link on the LAN for the client (L2 mode). */
  servicePools: { ipv4: '198.51.100.0/24', ipv6: '2001:db8:100::/120' },
  /** The default BGP pool ranges: the client reaches them through the router's far side. */
  bgpRanges: ['198.51.100.64/26', '2001:db8:100::40/122'],
  /** The far side's IPv4 transit range (client eth1 to router eth1). */
  farSide: '203.0.113.0/24',
  routerAs: 64513,
  nodeAs: 64512,
} as const;
