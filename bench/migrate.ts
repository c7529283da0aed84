import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml, stringify } from 'yaml';
import type { CrdLike } from '../shared/api/crd-validation.ts';
import { compileValidators, migrateText } from '../shared/migrate/migrate.ts';
import { renderReport, renderYaml } from '../shared/migrate/render.ts';

/**
 * How long `metalbeacon migrate` takes on a large MetalLB installation: 1000 pools, 1000
 * L2Advertisements, 100 peers, 100 BGPAdvertisements, a legacy ConfigMap with 200 pools and
 * 1000 annotated Services. Prints figures; asserts nothing.
 * Run: node_modules/.bin/node bench/migrate.ts
 */

const NS = 'metallb-system';
const docs: unknown[] = [];
for (let i = 0; i < 1000; i++) {
  docs.push({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: `pool-${i}`, namespace: NS, labels: { tier: i % 2 ? 'a' : 'b' } },
    spec: { addresses: [`2001:db8:${i.toString(16)}::/64`], autoAssign: i % 3 !== 0 },
  });
  docs.push({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: `l2-${i}`, namespace: NS },
    spec: { ipAddressPools: [`pool-${i}`], interfaces: ['eth0'] },
  });
}
for (let i = 0; i < 100; i++) {
  docs.push({
    apiVersion: 'metallb.io/v1beta2',
    kind: 'BGPPeer',
    metadata: { name: `peer-${i}`, namespace: NS },
    spec: { myASN: 64512, peerASN: 64600 + i, peerAddress: `192.0.2.${i + 1}`, holdTime: '9s' },
  });
  docs.push({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'BGPAdvertisement',
    metadata: { name: `bgp-${i}`, namespace: NS },
    spec: { ipAddressPools: [`pool-${i}`], peers: [`peer-${i}`], communities: ['64512:100'] },
  });
}
const legacyPools = Array.from({ length: 200 }, (_, i) => ({
  name: `legacy-${i}`,
  protocol: i % 2 ? 'layer2' : 'bgp',
  addresses: [`2001:db8:1${i.toString(16).padStart(3, '0')}::/64`],
}));
docs.push({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'config', namespace: NS },
  data: { config: stringify({ 'address-pools': legacyPools }) },
});
for (let i = 0; i < 1000; i++) {
  docs.push({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `svc-${i}`,
      namespace: 'apps',
      annotations: { 'metallb.universe.tf/address-pool': `pool-${i}`, 'metallb.io/allow-shared-ip': 'k' },
    },
    spec: { type: 'LoadBalancer' },
  });
}
const text = docs.map((d) => stringify(d)).join('---\n');

const crdDir = new URL('../config/crd/', import.meta.url);
const validators = compileValidators(
  readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => parseYaml(readFileSync(new URL(f, crdDir), 'utf8')) as CrdLike),
);

const runs: number[] = [];
let result: ReturnType<typeof migrateText> | undefined;
for (let i = 0; i < 5; i++) {
  const start = performance.now();
  result = migrateText(text, 'bench.yaml', { validators });
  renderYaml(result, { source: 'bench.yaml', namespace: 'metalbeacon-system' });
  renderReport(result, { source: 'bench.yaml', namespace: 'metalbeacon-system' });
  runs.push(performance.now() - start);
}
runs.sort((a, b) => a - b);
const median = runs[Math.floor(runs.length / 2)] ?? 0;
console.log(`input: ${docs.length} documents, ${(text.length / 1024).toFixed(0)} KiB`);
console.log(
  `output: ${result?.objects.length} objects, ${result?.services.length} Service plans, ${result?.unconverted.length} not converted, ${result?.configErrors.length} config errors`,
);
console.log(
  `migrate + render: median ${median.toFixed(0)} ms over ${runs.length} runs (${((docs.length / median) * 1000).toFixed(0)} documents/s)`,
);
