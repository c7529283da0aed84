/**
 * Benchmark: time to build the validated Config from a large set of objects (what every
 * controller and speaker does on each relevant change). Run: node bench/config-build.ts
 * Uses 2001:db8::/32 /64 pools and 192.0.2.0/24 peers: data only, no traffic.
 */
import { type BuildConfigResult, buildConfig } from '../shared/config/build-config.ts';

const NS = 'metalbeacon-system';
const pools = Array.from({ length: 1000 }, (_, i) => ({
  metadata: { name: `p${i}`, namespace: NS, labels: { idx: String(i % 10) } },
  spec: { addresses: [`2001:db8:${i.toString(16)}::/64`] },
}));
const nodes = Array.from({ length: 1000 }, (_, i) => ({
  metadata: { name: `n${i}`, labels: { rack: String(i % 20) } },
}));
const peers = Array.from({ length: 100 }, (_, i) => ({
  metadata: { name: `r${i}`, namespace: NS },
  spec: {
    myASN: 64512,
    peerASN: 64513,
    peerAddress: `192.0.2.${i + 1}`,
    nodeSelectors: [{ matchLabels: { rack: String(i % 20) } }],
  },
}));
const l2 = Array.from({ length: 50 }, (_, i) => ({
  metadata: { name: `l${i}`, namespace: NS },
  spec: {
    ipAddressPoolSelectors: [{ matchLabels: { idx: String(i % 10) } }],
    nodeSelectors: [{ matchLabels: { rack: String(i % 20) } }],
  },
}));
const bgp = Array.from({ length: 50 }, (_, i) => ({
  metadata: { name: `b${i}`, namespace: NS },
  spec: { ipAddressPools: [`p${i}`], peers: [`r${i}`], communities: ['64512:1'] },
}));
const t0 = performance.now();
const runs = 20;
let r: BuildConfigResult | undefined;
for (let i = 0; i < runs; i++)
  r = buildConfig({ pools, nodes, peers, l2Advertisements: l2, bgpAdvertisements: bgp } as never, {
    namespace: NS,
  });
const ms = (performance.now() - t0) / runs;
console.log(
  `buildConfig: 1000 pools, 1000 nodes, 100 peers, 100 advertisements: ${ms.toFixed(1)} ms per build, ok=${r?.ok}`,
);
