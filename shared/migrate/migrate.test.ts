import assert from 'node:assert/strict';
// biome-ignore lint/style/noRestrictedImports: the test reads its fixtures; the code under test does no I/O
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type Document, parseAllDocuments } from 'yaml';
import { buildConfig, configInputsOf } from '../config/build-config.ts';
import { type MigrateOptions, migrate, migrateText } from './migrate.ts';
import { MigrateInputError, parseManifestStream } from './parse.ts';
import { renderJson, renderReport, renderYaml } from './render.ts';
import { untracedDocuments, VALIDATORS } from './test-helpers.ts';
import { type MigrationResult, migrationComplete } from './types.ts';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

function run(name: string, options: MigrateOptions = {}): MigrationResult {
  return migrateText(fixture(name), name, { validators: VALIDATORS, ...options });
}

const NS = 'metalbeacon-system';
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: NS, ...extra });
const ours = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) => ({
  apiVersion: 'metalbeacon.io/v1beta1',
  kind,
  metadata: meta(name, extra),
  spec,
});

/** `field` and `kind/name` of every issue, for order-independent comparisons. */
const issueKeys = (issues: MigrationResult['unconverted']) =>
  issues
    .map(
      (i) =>
        `${i.from.kind} ${i.from.name}${i.from.entry ? ` ${i.from.entry}` : ''}${i.field ? ` ${i.field}` : ''}`,
    )
    .sort();

/** The produced YAML, parsed back, fed to buildConfig: what the controller will see after kubectl apply. */
function roundTrip(result: MigrationResult, namespace = NS) {
  const text = renderYaml(result, { source: 'x.yaml', namespace });
  const docs = parseAllDocuments(text) as ReturnType<typeof parseAllDocuments> & Document[];
  const objects = docs.map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS() as { kind: string };
  });
  return buildConfig(configInputsOf(objects), { namespace });
}

describe('migrate: metallb.io CRs (v1beta1 and v1beta2)', () => {
  const result = run('crs.yaml');

  it('converts every object and field, moving them to metalbeacon-system', () => {
    assert.deepEqual(
      result.objects.map((o) => o.object),
      [
        ours(
          'IPAddressPool',
          'ingress',
          {
            addresses: ['198.51.100.0/27', '198.51.100.40-198.51.100.49'],
            autoAssign: false,
            avoidBuggyIPs: true,
            serviceAllocation: {
              priority: 10,
              namespaces: ['ingress-nginx', 'contour'],
              namespaceSelectors: [{ matchLabels: { exposure: 'public' } }],
              serviceSelectors: [
                {
                  matchExpressions: [
                    { key: 'app.kubernetes.io/component', operator: 'In', values: ['controller', 'envoy'] },
                  ],
                },
              ],
            },
          },
          // kubectl's and Helm's bookkeeping annotations stay behind, the user's own come along.
          { labels: { tier: 'edge' }, annotations: { 'team.example.com/owner': 'platform' } },
        ),
        ours(
          'IPAddressPool',
          'dual',
          { addresses: ['198.51.100.128/26', '2001:db8:100::/120'] },
          { labels: { tier: 'internal' } },
        ),
        ours('L2Advertisement', 'edge-l2', {
          ipAddressPools: ['ingress'],
          ipAddressPoolSelectors: [{ matchLabels: { tier: 'edge' } }],
          nodeSelectors: [
            { matchLabels: { 'node-role.kubernetes.io/edge': '' } },
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['node-3'] }] },
          ],
          serviceSelectors: [{ matchLabels: { exposure: 'lan' } }],
          interfaces: ['eth0', 'bond0.100'],
        }),
        ours('BGPAdvertisement', 'dual-aggregated', {
          ipAddressPools: ['dual'],
          aggregationLength: 28,
          aggregationLengthV6: 124,
          localPref: 200,
          communities: ['64512:100', 'no-export', 'large:64512:1:2'],
          nodeSelectors: [{ matchLabels: { bgp: 'enabled' } }],
          peers: ['spine-a', 'spine-b'],
        }),
        ours('BGPAdvertisement', 'internal-per-service', {
          ipAddressPoolSelectors: [{ matchLabels: { tier: 'internal' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'expose-bgp', operator: 'Exists' }] }],
          peers: ['spine-a'],
        }),
        ours('BGPPeer', 'spine-a', {
          myASN: 64512,
          peerASN: 64513,
          peerAddress: '192.0.2.1',
          peerPort: 1179,
          sourceAddress: '192.0.2.11',
          routerID: '192.0.2.11',
          holdTime: '9s',
          keepaliveTime: '3s',
          connectTime: '5s',
          ebgpMultiHop: true,
          nodeSelectors: [{ matchLabels: { bgp: 'enabled' } }],
          // The Secret moves with the peer; its namespace is the peer's.
          passwordSecret: { name: 'spine-a-md5' },
          bfdProfile: 'fast',
          enableGracefulRestart: true,
          disableMP: false,
          dualStackAddressFamily: true,
        }),
        ours('BGPPeer', 'spine-b', {
          myASN: 64512,
          peerASN: 64512,
          peerAddress: '2001:db8:0:1::1',
          holdTime: '1m30s',
          routerID: '192.0.2.11',
          password: 'plain-md5-key',
          nodeSelectors: [
            {
              matchLabels: { bgp: 'enabled' },
              matchExpressions: [{ key: 'rack', operator: 'In', values: ['r1', 'r2'] }],
            },
          ],
        }),
        ours('Community', 'aliases', {
          communities: [
            { name: 'no-export', value: '65535:65281' },
            { name: 'blackhole-large', value: 'large:64512:666:0' },
          ],
        }),
        ours('BFDProfile', 'fast', {
          receiveInterval: 100,
          transmitInterval: 120,
          detectMultiplier: 4,
          echoInterval: 60,
          echoMode: false,
          passiveMode: true,
          minimumTtl: 250,
        }),
        ours('BFDProfile', 'defaults', { echoMode: false, echoInterval: 50 }),
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'spine-a-md5', namespace: NS },
          type: 'kubernetes.io/basic-auth',
          stringData: { password: 's3cret-md5' },
        },
      ],
    );
  });

  it('names the source document and line of every object (the line of its apiVersion)', () => {
    assert.deepEqual(
      result.objects.map((o) => `${o.from.document}:${o.from.line} ${o.from.apiVersion} ${o.from.kind}`),
      [
        '1:3 metallb.io/v1beta1 IPAddressPool',
        '2:34 metallb.io/v1beta1 IPAddressPool',
        '3:46 metallb.io/v1beta1 L2Advertisement',
        '4:71 metallb.io/v1beta1 BGPAdvertisement',
        '5:93 metallb.io/v1beta1 BGPAdvertisement',
        '6:109 metallb.io/v1beta2 BGPPeer',
        '7:137 metallb.io/v1beta1 BGPPeer',
        '8:157 metallb.io/v1beta1 Community',
        '9:169 metallb.io/v1beta1 BFDProfile',
        '10:183 metallb.io/v1beta1 BFDProfile',
        '11:192 v1 Secret',
      ],
    );
  });

  it('reports nothing and passes the CRD schemas and buildConfig', () => {
    assert.deepEqual(result.unconverted, []);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(result.schemaErrors, []);
    assert.deepEqual(result.configErrors, []);
    assert.equal(migrationComplete(result), true);
  });

  it('round-trips: the printed YAML builds the configuration MetalLB ran', () => {
    const built = roundTrip(result);
    assert.ok(built.ok, JSON.stringify(!built.ok && built.errors));
    const { config } = built;
    assert.deepEqual(
      config.pools.map((p) => [p.name, p.autoAssign, p.avoidBuggyIPs, p.size.IPv4, p.size.IPv6]),
      [
        ['dual', true, false, 64n, 256n],
        ['ingress', false, true, 42n, 0n],
      ],
    );
    const spineA = config.peers.find((p) => p.name === 'spine-a');
    assert.equal(spineA?.password, 's3cret-md5', 'the password comes from the moved Secret');
    assert.equal(spineA?.holdTimeSec, 9);
    assert.equal(spineA?.keepaliveTimeSec, 3);
    assert.equal(spineA?.connectTimeSec, 5);
    assert.equal(spineA?.bfdProfile, 'fast');
    const spineB = config.peers.find((p) => p.name === 'spine-b');
    assert.equal(spineB?.ibgp, true);
    assert.equal(spineB?.holdTimeSec, 90);
    assert.equal(spineB?.keepaliveTimeSec, 30);
    assert.deepEqual(
      config.bfdProfiles.map((b) => [
        b.name,
        b.receiveIntervalMs,
        b.detectMultiplier,
        b.passiveMode,
        b.minimumTtl,
      ]),
      [
        ['defaults', 300, 3, false, 254],
        ['fast', 100, 4, true, 250],
      ],
    );
  });

  it('uses --namespace for every object and for buildConfig', () => {
    const other = run('crs.yaml', { namespace: 'lb' });
    assert.deepEqual(new Set(other.objects.map((o) => o.object.metadata.namespace)), new Set(['lb']));
    assert.deepEqual(other.configErrors, []);
    assert.ok(roundTrip(other, 'lb').ok);
  });
});

describe('migrate: legacy ConfigMap (MetalLB <= 0.12)', () => {
  const result = run('legacy-configmap.yaml');

  it('splits pools by protocol, names peers after their address, collects aliases', () => {
    assert.deepEqual(
      result.objects.map((o) => o.object),
      [
        ours('BFDProfile', 'slow', {
          receiveInterval: 1000,
          transmitInterval: 1000,
          detectMultiplier: 5,
          echoInterval: 100,
          echoMode: false,
          passiveMode: false,
          minimumTtl: 200,
        }),
        ours('Community', 'bgp-communities', {
          communities: [
            { name: 'no-advertise', value: '65535:65282' },
            { name: 'tagged', value: '64512:300' },
          ],
        }),
        ours('BGPPeer', 'peer-192-0-2-1-1179', {
          peerAddress: '192.0.2.1',
          peerASN: 64513,
          myASN: 64512,
          peerPort: 1179,
          sourceAddress: '192.0.2.11',
          holdTime: '120s',
          keepaliveTime: '40s',
          routerID: '192.0.2.11',
          password: 'legacy-md5',
          bfdProfile: 'slow',
          ebgpMultiHop: true,
          nodeSelectors: [
            {
              matchLabels: { rack: 'frontend' },
              matchExpressions: [{ key: 'network-speed', operator: 'NotIn', values: ['slow'] }],
            },
          ],
        }),
        ours('BGPPeer', 'peer-2001-db8-0-1-1', {
          peerAddress: '2001:db8:0:1::1',
          peerASN: 64512,
          myASN: 64512,
        }),
        ours('IPAddressPool', 'lan', { addresses: ['198.51.100.10-198.51.100.20'], autoAssign: false }),
        ours('L2Advertisement', 'lan', { ipAddressPools: ['lan'] }),
        ours('IPAddressPool', 'routed', {
          avoidBuggyIPs: true,
          addresses: ['198.51.100.64/26', '2001:db8:100::/120'],
        }),
        ours('BGPAdvertisement', 'routed-1', {
          aggregationLength: 32,
          aggregationLengthV6: 128,
          localPref: 100,
          communities: ['no-advertise'],
          ipAddressPools: ['routed'],
        }),
        ours('BGPAdvertisement', 'routed-2', {
          aggregationLength: 26,
          aggregationLengthV6: 120,
          localPref: 100,
          communities: ['tagged', '64512:400'],
          ipAddressPools: ['routed'],
        }),
        ours('IPAddressPool', 'plain-bgp', { addresses: ['198.51.100.160/28'] }),
        // A bgp pool without advertisements was announced with the defaults to every peer.
        ours('BGPAdvertisement', 'plain-bgp', { ipAddressPools: ['plain-bgp'] }),
      ],
    );
    assert.deepEqual(
      result.objects.map((o) => o.from.entry),
      [
        'data.config bfd-profiles[0]',
        'data.config bgp-communities',
        'data.config peers[0]',
        'data.config peers[1]',
        'data.config address-pools[0]',
        'data.config address-pools[0]',
        'data.config address-pools[1]',
        'data.config address-pools[1]',
        'data.config address-pools[1]',
        'data.config address-pools[2]',
        'data.config address-pools[2]',
      ],
    );
    // Each entry at its own line of the input file (data.config is a literal block).
    assert.deepEqual(
      result.objects.map((o) => o.from.line),
      [63, 32, 10, 28, 35, 35, 40, 40, 40, 58, 58],
    );
  });

  it('is complete and round-trips through buildConfig', () => {
    assert.deepEqual(
      [result.unconverted, result.warnings, result.schemaErrors, result.configErrors],
      [[], [], [], []],
    );
    const built = roundTrip(result);
    assert.ok(built.ok, JSON.stringify(!built.ok && built.errors));
    const routed = built.config.bgpAdvertisements.filter((a) => a.pools.includes('routed'));
    assert.deepEqual(
      routed.map((a) => [a.aggregationLength, a.aggregationLengthV6, a.communities.map((c) => c.text)]),
      [
        [32, 128, ['65535:65282']],
        [26, 120, ['64512:300', '64512:400']],
      ],
      'aliases resolve through the generated Community',
    );
    const peer = built.config.peers.find((p) => p.name === 'peer-192-0-2-1-1179');
    assert.deepEqual([peer?.holdTimeSec, peer?.keepaliveTimeSec, peer?.peerPort], [120, 40, 1179]);
  });

  it('generated names never take a name an explicit CR of the input uses', () => {
    const text = `${fixture('legacy-configmap.yaml')}---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
spec: {ipAddressPools: [other]}
`;
    const names = migrateText(text, 'x', { validators: VALIDATORS })
      .objects.filter((o) => o.object.kind === 'L2Advertisement')
      .map((o) => o.object.metadata.name);
    assert.deepEqual(names, ['lan-2', 'lan']);
  });
});

describe('migrate: legacy AddressPool CR (metallb.io/v1beta1, v0.13)', () => {
  const result = run('legacy-addresspool.yaml');

  it('becomes a pool plus an advertisement of its protocol', () => {
    assert.deepEqual(
      result.objects.map((o) => o.object),
      [
        ours(
          'IPAddressPool',
          'office',
          { addresses: ['198.51.100.192/28'], autoAssign: true },
          { labels: { site: 'office' } },
        ),
        ours('L2Advertisement', 'office', { ipAddressPools: ['office'] }),
        ours('IPAddressPool', 'datacenter', { addresses: ['198.51.100.224/27'], avoidBuggyIPs: true }),
        ours('BGPAdvertisement', 'datacenter', {
          aggregationLength: 32,
          localPref: 150,
          communities: ['64512:10'],
          ipAddressPools: ['datacenter'],
        }),
        ours('BGPPeer', 'datacenter', { myASN: 64512, peerASN: 64600, peerAddress: '203.0.113.1' }),
      ],
    );
    assert.ok(migrationComplete(result));
    assert.ok(roundTrip(result).ok);
  });
});

describe('migrate: Service annotations', () => {
  const result = run('services.yaml');

  it('plans renames from both spellings; metallb.io wins as in MetalLB', () => {
    assert.deepEqual(
      result.services.map(({ namespace, name, renames, removals }) => ({
        namespace,
        name,
        renames,
        removals,
      })),
      [
        {
          namespace: 'ingress-nginx',
          name: 'ingress-nginx-controller',
          renames: [
            { from: 'metallb.universe.tf/address-pool', to: 'metalbeacon.io/address-pool', value: 'ingress' },
            {
              from: 'metallb.universe.tf/allow-shared-ip',
              to: 'metalbeacon.io/allow-shared-ip',
              value: 'edge',
            },
            {
              from: 'metallb.universe.tf/ip-allocated-from-pool',
              to: 'metalbeacon.io/ip-allocated-from-pool',
              value: 'ingress',
            },
          ],
          removals: [],
        },
        {
          namespace: 'infra',
          name: 'dns',
          renames: [
            {
              from: 'metallb.io/loadBalancerIPs',
              to: 'metalbeacon.io/loadBalancerIPs',
              value: '198.51.100.140,2001:db8:100::53',
            },
            { from: 'metallb.io/allow-shared-ip', to: 'metalbeacon.io/allow-shared-ip', value: 'dns' },
          ],
          // address-pool: metalbeacon.io/address-pool is already set and kept.
          removals: [
            'metallb.io/address-pool',
            'metallb.universe.tf/loadBalancerIPs',
            'metallb.universe.tf/allow-shared-ip',
          ],
        },
      ],
    );
    assert.equal(result.servicesUnchanged, 1);
    assert.deepEqual(result.objects, [], 'Services are only listed without --rewrite-services');
  });

  it('warns about conflicting spellings and reports unknown MetalLB annotations', () => {
    assert.deepEqual(issueKeys(result.warnings), [
      'Service dns items[1] metadata.annotations[metalbeacon.io/address-pool]',
      'Service dns items[1] metadata.annotations[metallb.universe.tf/loadBalancerIPs]',
    ]);
    assert.deepEqual(issueKeys(result.unconverted), [
      'Service dns items[1] metadata.annotations[metallb.universe.tf/frobnicate]',
    ]);
  });

  it('prints one kubectl annotate command per Service', () => {
    const report = renderReport(result, { source: 'services.yaml', namespace: NS });
    assert.ok(
      report.includes(
        '  kubectl annotate --overwrite -n ingress-nginx service ingress-nginx-controller metalbeacon.io/address-pool=ingress metalbeacon.io/allow-shared-ip=edge metalbeacon.io/ip-allocated-from-pool=ingress metallb.universe.tf/address-pool- metallb.universe.tf/allow-shared-ip- metallb.universe.tf/ip-allocated-from-pool-\n',
      ),
      report,
    );
  });

  it('--rewrite-services outputs the Services with new annotations and without server fields', () => {
    const rewritten = run('services.yaml', { rewriteServices: true });
    assert.deepEqual(rewritten.objects[0]?.object, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'ingress-nginx-controller',
        namespace: 'ingress-nginx',
        labels: { 'app.kubernetes.io/component': 'controller' },
        annotations: {
          'metalbeacon.io/address-pool': 'ingress',
          'metalbeacon.io/allow-shared-ip': 'edge',
          'metalbeacon.io/ip-allocated-from-pool': 'ingress',
        },
      },
      spec: {
        type: 'LoadBalancer',
        loadBalancerIP: '198.51.100.5',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 443 }],
        selector: { 'app.kubernetes.io/component': 'controller' },
      },
    });
    assert.deepEqual(rewritten.objects[1]?.object.metadata.annotations, {
      'metalbeacon.io/address-pool': 'other',
      'metallb.universe.tf/frobnicate': 'yes',
      'metalbeacon.io/loadBalancerIPs': '198.51.100.140,2001:db8:100::53',
      'metalbeacon.io/allow-shared-ip': 'dns',
    });
    assert.equal(rewritten.objects.length, 2, 'the Service without MetalLB annotations is not output');
  });
});

describe('migrate: what cannot be converted', () => {
  const result = run('unconvertible.yaml');

  it('lists every unconverted object and field with its reason', () => {
    assert.deepEqual(issueKeys(result.unconverted), [
      '? ?: not a mapping'.replace(': not a mapping', ''),
      'BGPPeer dynamic spec.dynamicASN',
      'BGPPeer in-vrf spec.vrf',
      'BGPPeer local-as spec.localASN',
      'BGPPeer unnumbered spec.interface',
      'ConfigMap bgpextras data.extras',
      'ConfigMap config data.config address-pools[0] protocol',
      'ConfigMap config data.config address-pools[1]',
      'ConfigMap config data.config address-pools[2] bgp-advertisements',
      'ConfigMap config data.config address-pools[3]',
      'ConfigMap config data.config bgp-communities',
      'ConfigMap config data.config peers[0]',
      'ConfigMap config data.config peers[1] vrf',
      'ConfigMap config data.config speakers',
      'ConfigMap metallb-excludel2 data[excludel2.yaml]',
      'Frobnicator x',
      'IPAddressPool Bad_Name spec.serviceAllocation.colour',
      'IPAddressPool too-old apiVersion',
      'L2Advertisement preferred spec.frobnicate',
      'L2Advertisement preferred spec.preferredNodeSelectors',
    ]);
    for (const issue of result.unconverted) assert.ok(issue.reason.length > 20, issue.reason);
    const vrf = result.unconverted.find((i) => i.field === 'spec.vrf');
    assert.match(vrf?.reason ?? '', /VRF "red" is not supported.*not converted/);
  });

  it('skips status objects, the installation and unneeded Secrets with a reason, without failing', () => {
    assert.deepEqual(issueKeys(result.skipped), [
      'ConfigurationState controller',
      'Deployment controller',
      'Secret memberlist',
      'ServiceL2Status l2-abcde',
    ]);
    for (const issue of result.skipped) assert.ok(issue.reason.length > 20, issue.reason);
    const onlySkipped = migrateText(
      `apiVersion: v1
kind: Namespace
metadata: {name: metallb-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-root-ca.crt, namespace: metallb-system}
data: {ca.crt: x}
`,
      'x',
      { validators: VALIDATORS },
    );
    assert.deepEqual(issueKeys(onlySkipped.skipped), [
      'ConfigMap kube-root-ca.crt',
      'Namespace metallb-system',
    ]);
    assert.equal(migrationComplete(onlySkipped), true);
  });

  it('still outputs what it could convert, without the unsupported fields', () => {
    assert.deepEqual(
      result.objects.map((o) => `${o.object.kind}/${o.object.metadata.name}`),
      [
        'BGPPeer/local-as',
        'L2Advertisement/preferred',
        'IPAddressPool/Bad_Name',
        'BGPPeer/peer-192-0-2-9',
        'IPAddressPool/old-arp',
        'IPAddressPool/l2-with-ads',
        'L2Advertisement/l2-with-ads',
      ],
    );
    assert.deepEqual(result.objects[0]?.object.spec, {
      myASN: 64512,
      peerASN: 64513,
      peerAddress: '192.0.2.3',
      bfdProfile: 'missing',
    });
    assert.deepEqual(result.objects[1]?.object.spec, { nodeSelectors: [{ matchLabels: { zone: 'a' } }] });
    assert.deepEqual(result.objects[2]?.object.spec, {
      addresses: ['198.51.100.300/24'],
      serviceAllocation: { priority: 1 },
    });
  });

  it('reports schema and buildConfig errors of the result without losing objects', () => {
    assert.deepEqual(
      result.schemaErrors.map((e) => `${e.kind} ${e.name} ${e.field}`),
      ['IPAddressPool Bad_Name metadata.name'],
    );
    assert.deepEqual(
      result.configErrors.map((e) => `${e.kind} ${e.name} ${e.field} ${e.transient === true}`),
      ['IPAddressPool Bad_Name spec.addresses[0] false', 'BGPPeer local-as spec.bfdProfile true'],
    );
    assert.equal(migrationComplete(result), false);
  });

  it('accounts for every input document: converted, listed, skipped or reported', () => {
    for (const name of readdirSync(new URL('fixtures/', import.meta.url))) {
      const docs = parseManifestStream(fixture(name), name);
      const r = migrate(docs, { validators: VALIDATORS });
      const unchanged = untracedDocuments(docs, r);
      assert.deepEqual(
        unchanged.map((d) => (d.value as { kind: string }).kind),
        Array(r.servicesUnchanged).fill('Service'),
        `${name}: documents with no trace: ${JSON.stringify(unchanged)}`,
      );
    }
  });
});

describe('migrate: details', () => {
  it('reads YAML as kubectl and MetalLB do (go-yaml v2): yes/no/on/off are booleans, AA:NN stays text', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: |
    bgp-communities:
      short: 64512:30
    address-pools:
    - name: p
      protocol: bgp
      auto-assign: no
      avoid-buggy-ips: yes
      addresses: [198.51.100.0/28]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.1, ebgpMultiHop: on}
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(
      r.objects.map((o) => o.object.spec),
      [
        { communities: [{ name: 'short', value: '64512:30' }] },
        { autoAssign: false, avoidBuggyIPs: true, addresses: ['198.51.100.0/28'] },
        { ipAddressPools: ['p'] },
        { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', ebgpMultiHop: true },
      ],
    );
    assert.ok(migrationComplete(r), renderReport(r, { source: 'x', namespace: NS }));
  });

  it('warns when a passwordSecret is not in the input, and buildConfig says it is missing (transient)', () => {
    const text = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64513
  peerAddress: 192.0.2.1
  passwordSecret: {name: md5, namespace: other-ns}
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(
      r.warnings.map((w) => `${w.field}: ${w.reason}`),
      [
        'spec.passwordSecret.namespace: the Secret was in namespace "other-ns"; MetalBeacon reads it from "metalbeacon-system"',
        'spec.passwordSecret: Secret "md5" is not in the input: copy it to namespace "metalbeacon-system" (type kubernetes.io/basic-auth, key "password")',
      ],
    );
    assert.deepEqual(
      r.configErrors.map((e) => [e.field, e.transient]),
      [['spec.passwordSecret', true]],
    );
    assert.equal(migrationComplete(r), true, 'a Secret still to copy does not fail the migration');
  });

  it('converts a BFDProfile with echoMode: true to working BFD without echo, with a warning naming the field', () => {
    const text = `apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: metallb-system}
spec: {echoMode: true, echoInterval: 50, receiveInterval: 100}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: |
    bfd-profiles:
    - name: legacy-echo
      echo-mode: true
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(
      r.objects.map((o) => [o.object.metadata.name, o.object.spec]),
      [
        ['echo', { echoInterval: 50, receiveInterval: 100 }],
        ['legacy-echo', {}],
      ],
    );
    assert.deepEqual(r.schemaErrors, []);
    assert.deepEqual(r.configErrors, [], 'the converted profiles are a configuration the speaker runs');
    assert.deepEqual(r.unconverted, []);
    assert.deepEqual(
      r.warnings.map((w) => `${w.from.name} ${w.from.entry ?? ''} ${w.field}: ${w.reason.slice(0, 40)}`),
      [
        'echo  spec.echoMode: echo mode is not run by MetalBeacon (asy',
        'config data.config bfd-profiles[0] echo-mode: echo mode is not run by MetalBeacon (asy',
      ],
    );
    assert.equal(migrationComplete(r), true);
  });

  it('a Secret of a peer that is not converted stays behind', () => {
    const text = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r, namespace: metallb-system}
spec: {myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.1, vrf: red, passwordSecret: {name: md5}}
---
apiVersion: v1
kind: Secret
metadata: {name: md5, namespace: metallb-system}
type: kubernetes.io/basic-auth
stringData: {password: x}
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(r.objects, []);
    assert.deepEqual(issueKeys(r.unconverted), ['BGPPeer r spec.vrf']);
    assert.deepEqual(issueKeys(r.skipped), ['Secret md5']);
    assert.deepEqual(r.warnings, []);
  });

  it('warns about a Service that asks for a pool the input does not define', () => {
    const text = `${fixture('crs.yaml')}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {metallb.io/address-pool: ingres, metallb.io/allow-shared-ip: web}
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  annotations: {metallb.universe.tf/address-pool: dual}
spec: {type: LoadBalancer}
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(
      r.warnings.map((w) => `${w.from.name} ${w.field}: ${w.reason}`),
      [
        'web metadata.annotations[metallb.io/address-pool]: asks for pool "ingres", which is not among the converted pools (dual, ingress); the Service will get no IP until such a pool exists',
      ],
    );
    assert.equal(migrationComplete(r), true, 'a warning does not fail the migration');
  });
});

describe('migrate: input errors', () => {
  it('a YAML syntax error names the document and line', () => {
    const text = 'apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: [Service\n';
    assert.throws(
      () => parseManifestStream(text, 'in.yaml'),
      (e: unknown) =>
        e instanceof MigrateInputError &&
        /^in\.yaml document 2 \(line \d+, column \d+\): YAML syntax error/.test(e.message),
    );
  });

  it('a legacy ConfigMap whose config is not YAML is reported, the rest converts', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata: {name: config, namespace: metallb-system}
data:
  config: "address-pools: [\\n"
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: ok, namespace: metallb-system}
`;
    const r = migrateText(text, 'x', { validators: VALIDATORS });
    assert.deepEqual(issueKeys(r.unconverted), ['ConfigMap config data.config']);
    assert.match(r.unconverted[0]?.reason ?? '', /^not valid YAML/);
    assert.deepEqual(
      r.objects.map((o) => o.object.metadata.name),
      ['ok'],
    );
  });

  it('JSON output carries the same result for scripts', () => {
    const r = run('unconvertible.yaml');
    const json = JSON.parse(renderJson(r, { source: '-', namespace: NS })) as Record<string, unknown>;
    assert.equal(json.complete, false);
    assert.equal(json.source, 'stdin');
    assert.equal((json.unconverted as unknown[]).length, r.unconverted.length);
    assert.equal((json.objects as unknown[]).length, r.objects.length);
  });
});
