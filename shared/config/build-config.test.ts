import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, configInputsOf } from './build-config.ts';
import {
  basicAuthSecret,
  bfd,
  bgpAd,
  build,
  community,
  expectConfig,
  l2,
  node,
  peer,
  pool,
} from './test-helpers.ts';
import { formatConfigError } from './types.ts';

function everyNestedObjectIsFrozen(value: unknown, path = 'config'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const out = Object.isFrozen(value) ? [] : [path];
  for (const [k, v] of Object.entries(value)) out.push(...everyNestedObjectIsFrozen(v, `${path}.${k}`));
  return out;
}

const validInputs = () => ({
  pools: [
    pool('a', {
      addresses: ['198.51.100.0/26', '2001:db8:100::/120'],
      serviceAllocation: { namespaces: ['web'] },
    }),
  ],
  l2Advertisements: [l2('l2', { ipAddressPools: ['a'], nodeSelectors: [{ matchLabels: { l2: 'yes' } }] })],
  bgpAdvertisements: [bgpAd('b', { communities: ['x'] })],
  peers: [peer('r', { passwordSecret: { name: 's' }, bfdProfile: 'p' })],
  communities: [community('c', { communities: [{ name: 'x', value: '1:2' }] })],
  bfdProfiles: [bfd('p', {})],
  nodes: [node('n1', { l2: 'yes' })],
  namespaces: [{ metadata: { name: 'web', labels: { team: 'web' } } }],
  secrets: [basicAuthSecret('s', 'pw')],
});

describe('buildConfig', () => {
  it('returns an empty config for no objects', () => {
    const config = expectConfig({});
    assert.deepEqual(config.pools, []);
    assert.deepEqual(config.peers, []);
  });

  it('collects every error, across kinds, not just the first', () => {
    const result = build({
      pools: [pool('p', { addresses: ['198.51.100.0/33', '198.51.100.9-198.51.100.1'] })],
      peers: [peer('r', { holdTime: '1s', password: 'a', passwordSecret: { name: 's' } })],
      bgpAdvertisements: [bgpAd('b', { aggregationLength: 40, communities: ['unknown'] })],
      communities: [community('c', { communities: [{ name: 'x', value: 'large:1' }] })],
    });
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.errors.map((e) => `${e.kind} ${e.name} ${e.field}`),
      [
        'IPAddressPool p spec.addresses[0]',
        'IPAddressPool p spec.addresses[1]',
        'Community c spec.communities[0].value',
        'BGPPeer r spec.holdTime',
        'BGPPeer r spec.passwordSecret',
        'BGPAdvertisement b spec.aggregationLength',
        'BGPAdvertisement b spec.communities[0]',
      ],
    );
    assert.equal(result.errors.filter((e) => e.transient).length, 1);
  });

  it('produces a deeply frozen config that cannot be changed', () => {
    const config = expectConfig(validInputs());
    assert.deepEqual(everyNestedObjectIsFrozen(config), []);
    assert.throws(() => {
      (config.pools as unknown as unknown[]).push({});
    }, TypeError);
    assert.throws(() => {
      (config.pools[0] as unknown as { autoAssign: boolean }).autoAssign = false;
    }, TypeError);
  });

  it('does not share mutable state with its inputs', () => {
    const inputs = validInputs();
    const config = expectConfig(inputs);
    (inputs.pools[0]?.metadata as unknown as { labels: Record<string, string> }).labels = { changed: 'yes' };
    (inputs.nodes[0]?.metadata.labels as Record<string, string>).l2 = 'no';
    assert.deepEqual(config.nodeLabels.n1, { l2: 'yes' });
    assert.deepEqual(config.pools[0]?.labels, {});
    assert.equal(Object.isFrozen(inputs.nodes[0]?.metadata.labels), false);
  });

  it('resolves references: secret password, community alias, BFD profile, nodes, namespace labels', () => {
    const config = expectConfig(validInputs());
    assert.equal(config.peers[0]?.password, 'pw');
    assert.deepEqual(
      config.bgpAdvertisements[0]?.communities.map((c) => c.text),
      ['1:2'],
    );
    assert.equal(config.bfdProfiles[0]?.name, 'p');
    assert.deepEqual(config.l2Advertisements[0]?.nodes, ['n1']);
    assert.deepEqual(config.namespaceLabels.web, { team: 'web' });
    assert.deepEqual(config.pools[0]?.serviceAllocation?.namespaces, ['web']);
  });

  it('is deterministic: input order does not change the result', () => {
    const forward = build({
      pools: [pool('a', { addresses: ['198.51.100.0/26'] }), pool('b', { addresses: ['198.51.100.64/26'] })],
    });
    const backward = build({
      pools: [pool('b', { addresses: ['198.51.100.64/26'] }), pool('a', { addresses: ['198.51.100.0/26'] })],
    });
    assert.deepEqual(forward, backward);
  });

  it('without a namespace option, accepts objects from any namespace', () => {
    const elsewhere = {
      ...pool('p', { addresses: ['198.51.100.0/26'] }),
      metadata: { name: 'p', namespace: 'default' },
    };
    const result = buildConfig({ pools: [elsewhere] });
    assert.equal(result.ok, true);
  });

  it('never throws on malformed objects; it reports them', () => {
    const junk = [
      { metadata: { name: 'a' } },
      { metadata: { name: 'b' }, spec: {} },
      { metadata: { name: 'c' }, spec: { addresses: [42, null] } },
      { metadata: { name: 'd' }, spec: { myASN: 'x', peerAddress: 7, holdTime: 5 } },
    ];
    const result = buildConfig({
      pools: junk as never,
      peers: junk as never,
      l2Advertisements: junk as never,
      bgpAdvertisements: junk as never,
      communities: junk as never,
      bfdProfiles: junk as never,
    });
    assert.equal(result.ok, false);
    if (!result.ok) assert.ok(result.errors.every((e) => formatConfigError(e).length > 0));
  });
});

describe('configInputsOf', () => {
  it('sorts objects into their ConfigInputs lists by kind, in order, and leaves other kinds out', () => {
    const pool1 = { kind: 'IPAddressPool', n: 1 };
    const pool2 = { kind: 'IPAddressPool', n: 2 };
    const node = { kind: 'Node' };
    const secret = { kind: 'Secret' };
    const inputs = configInputsOf([pool1, { kind: 'ConfigMap' }, node, pool2, secret, {}]);
    assert.deepEqual(inputs, { pools: [pool1, pool2], nodes: [node], secrets: [secret] });
  });
});
