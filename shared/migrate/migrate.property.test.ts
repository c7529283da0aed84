import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { migrate } from './migrate.ts';
import { GO_YAML_OPTIONS, parseManifestStream } from './parse.ts';
import { renderJson, renderReport, renderYaml } from './render.ts';
import { untracedDocuments, VALIDATORS } from './test-helpers.ts';
import { migrationComplete } from './types.ts';

/**
 * Whatever MetalLB-looking input arrives, the migration never crashes, accounts for every
 * document, and prints YAML that reads back as exactly the objects it reports.
 */

const FIELDS = [
  'addresses',
  'autoAssign',
  'avoidBuggyIPs',
  'serviceAllocation',
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'serviceSelectors',
  'interfaces',
  'preferredNodeSelectors',
  'aggregationLength',
  'aggregationLengthV6',
  'localPref',
  'communities',
  'peers',
  'myASN',
  'peerASN',
  'dynamicASN',
  'localASN',
  'peerAddress',
  'interface',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'passwordSecret',
  'password',
  'bfdProfile',
  'vrf',
  'protocol',
  'bgpAdvertisements',
  'receiveInterval',
  'echoMode',
];
const LEGACY_FIELDS = [
  'name',
  'protocol',
  'addresses',
  'auto-assign',
  'avoid-buggy-ips',
  'bgp-advertisements',
  'peer-address',
  'peer-asn',
  'my-asn',
  'peer-port',
  'hold-time',
  'node-selectors',
  'bfd-profile',
  'aggregation-length',
  'localpref',
  'communities',
  'receive-interval',
];

const name = fc.oneof(fc.constantFrom('a', 'b', 'pool-1', 'spine', 'md5', 'memberlist', ''), fc.string());
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('198.51.100.0/28', '2001:db8:100::/120', 'layer2', 'bgp', '90s', 64512, true, 'red'),
  fc.constantFrom(['198.51.100.0/28'], [{ matchLabels: { a: 'b' } }], { name: 'md5' }, [
    { 'match-labels': { a: 'b' } },
  ]),
);
const fields = (keys: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 8 })), value, { maxKeys: 6 });

const metallbObject = fc.record({
  apiVersion: fc.constantFrom('metallb.io/v1beta1', 'metallb.io/v1beta2', 'metallb.io/v1alpha1'),
  kind: fc.constantFrom(
    'IPAddressPool',
    'L2Advertisement',
    'BGPAdvertisement',
    'BGPPeer',
    'Community',
    'BFDProfile',
    'AddressPool',
    'ServiceBGPStatus',
    'Frobnicator',
  ),
  metadata: fc.record(
    { name, namespace: fc.constantFrom('metallb-system', 'other') },
    { requiredKeys: ['name'] },
  ),
  spec: fc.oneof(fields(FIELDS), value),
});

const legacyConfigMap = fc
  .record(
    {
      peers: fc.oneof(fc.array(fc.oneof(fields(LEGACY_FIELDS), value), { maxLength: 3 }), value),
      'address-pools': fc.oneof(fc.array(fc.oneof(fields(LEGACY_FIELDS), value), { maxLength: 3 }), value),
      'bfd-profiles': fc.array(fields(LEGACY_FIELDS), { maxLength: 2 }),
      'bgp-communities': fc.oneof(fc.dictionary(fc.string(), value, { maxKeys: 3 }), value),
      extra: value,
    },
    { requiredKeys: [] },
  )
  .chain((config) =>
    fc.record({
      apiVersion: fc.constant('v1'),
      kind: fc.constant('ConfigMap'),
      metadata: fc.record({ name, namespace: fc.constant('metallb-system') }),
      data: fc.oneof(
        fc.constant({ config: stringify(config) }),
        fc.record({ config: fc.string() }),
        fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
      ),
    }),
  );

const annotationKey = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('metallb.universe.tf/', 'metallb.io/', 'metalbeacon.io/', 'example.com/'),
      fc.constantFrom(
        'address-pool',
        'loadBalancerIPs',
        'allow-shared-ip',
        'ip-allocated-from-pool',
        'other',
      ),
    )
    .map(([p, n]) => p + n),
  fc.string(),
);
const service = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Service'),
  metadata: fc.record({
    name,
    namespace: fc.constantFrom('default', 'infra'),
    annotations: fc.dictionary(annotationKey, fc.string({ maxLength: 10 }), { maxKeys: 4 }),
  }),
  spec: fc.constant({ type: 'LoadBalancer' }),
  status: fc.constant({ loadBalancer: {} }),
});
const secret = fc.record({
  apiVersion: fc.constant('v1'),
  kind: fc.constant('Secret'),
  metadata: fc.record({ name, namespace: fc.constant('metallb-system') }),
  type: fc.constant('kubernetes.io/basic-auth'),
  stringData: fc.constant({ password: 'x' }),
});
const document = fc.oneof(
  { weight: 4, arbitrary: metallbObject },
  { weight: 2, arbitrary: legacyConfigMap },
  { weight: 2, arbitrary: service },
  { weight: 1, arbitrary: secret },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const plain = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

describe('migrate: arbitrary MetalLB-like input', () => {
  it('never throws, accounts for every document, and prints YAML that reads back as its objects', () => {
    fc.assert(
      fc.property(
        fc.array(document, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (docs, rewriteServices) => {
          const text = docs.map((d) => stringify(d, { version: '1.1' })).join('---\n');
          // `<<` is YAML 1.1's merge key: such input is rejected as YAML, tested elsewhere.
          fc.pre(!text.includes('<<'));
          const sources = parseManifestStream(text, 'gen.yaml');
          const result = migrate(sources, { validators: VALIDATORS, rewriteServices });

          const silent = untracedDocuments(sources, result);
          assert.equal(silent.length, result.servicesUnchanged, JSON.stringify(silent));
          for (const d of silent) assert.equal((d.value as { kind?: unknown }).kind, 'Service');

          const options = { source: 'gen.yaml', namespace: 'metalbeacon-system' };
          const yaml = renderYaml(result, options);
          const back = parseAllDocuments(yaml, GO_YAML_OPTIONS).map((doc) => {
            assert.deepEqual(doc.errors, []);
            return doc.toJS();
          });
          assert.deepEqual(
            back.map(plain),
            result.objects.map((o) => plain(o.object)),
          );
          renderReport(result, options);
          JSON.parse(renderJson(result, options));

          if (result.unconverted.length > 0) assert.equal(migrationComplete(result), false);
          for (const { object } of result.objects) {
            if (object.apiVersion !== 'metalbeacon.io/v1beta1') continue;
            const check = VALIDATORS.get(object.kind)?.(object);
            if (check && !check.ok) {
              assert.ok(
                result.schemaErrors.some((e) => e.kind === object.kind && e.name === object.metadata.name),
                `${object.kind} ${object.metadata.name} fails its schema without a report`,
              );
            }
            assert.deepEqual(check?.unknownFields ?? [], [], 'unknown fields are removed from the output');
          }
        },
      ),
      { numRuns: 500, seed: 20261122 },
    );
  });
});
