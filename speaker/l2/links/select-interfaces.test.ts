import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LinkInfo, lanCarrier, selectInterfaces } from './select-interfaces.ts';

const link = (name: string, overrides: Partial<LinkInfo> = {}): LinkInfo => ({
  name,
  ifindex: 2,
  mac: '02:00:00:00:00:01',
  type: 1,
  up: true,
  running: true,
  loopback: false,
  noArp: false,
  enslaved: false,
  ...overrides,
});

test('skips loopback, down, NOARP, non-Ethernet, bridge/bond members and excluded names, with the reason', () => {
  const links = [
    link('lo', { loopback: true, type: 772 }),
    link('eth0'),
    link('eth1', { up: false }),
    link('eth2', { running: false }),
    link('kube-ipvs0', { noArp: true }),
    link('wg0', { type: 65534 }),
    link('enp1s0', { enslaved: true }),
    link('br0'),
    link('docker0'),
    link('veth1234'),
  ];
  const { selected, skipped } = selectInterfaces(links);
  assert.deepEqual(
    selected.map((l) => l.name),
    ['eth0', 'br0'],
  );
  assert.deepEqual(skipped, [
    { name: 'lo', reason: 'loopback' },
    { name: 'eth1', reason: 'down' },
    { name: 'eth2', reason: 'down' },
    { name: 'kube-ipvs0', reason: 'no-arp' },
    { name: 'wg0', reason: 'not-ethernet' },
    { name: 'enp1s0', reason: 'enslaved' },
    { name: 'docker0', reason: 'excluded' },
    { name: 'veth1234', reason: 'excluded' },
  ]);
});

test('a listed interface is taken even if the pattern excludes it; unlisted ones are not', () => {
  const links = [link('eth0'), link('veth0'), link('eth1')];
  const { selected, skipped } = selectInterfaces(links, { listed: ['veth0'] });
  assert.deepEqual(
    selected.map((l) => l.name),
    ['veth0'],
  );
  assert.deepEqual(
    skipped.map((s) => s.reason),
    ['not-listed', 'not-listed'],
  );
  const custom = selectInterfaces(links, { exclude: /^eth1$/ });
  assert.deepEqual(
    custom.selected.map((l) => l.name),
    ['eth0', 'veth0'],
  );
});

test('lanCarrier: whether an interface the announcer uses or would use has carrier', () => {
  const lo = link('lo', { loopback: true, type: 772 });
  assert.equal(lanCarrier([lo, link('eth0')]), true);
  assert.equal(lanCarrier([lo, link('eth0', { running: false })]), false, 'no carrier (a link flap)');
  assert.equal(lanCarrier([lo, link('eth0', { up: false })]), false, 'set down');
  assert.equal(
    lanCarrier([lo, link('eth0', { running: false }), link('veth1'), link('kube-ipvs0', { noArp: true })]),
    false,
    'pod veths and non-ARP links are not the LAN',
  );
  assert.equal(
    lanCarrier([lo, link('eth0', { running: false }), link('eth1')]),
    true,
    'one of two is enough',
  );
  assert.equal(lanCarrier([lo, link('veth1')]), undefined, 'no LAN interface at all: unknown');
  assert.equal(lanCarrier([]), undefined);
  assert.equal(
    lanCarrier([link('eth0'), link('eth1', { running: false })], { listed: ['eth1'], exclude: /^eth/ }),
    false,
    'only the listed one counts when the pattern excludes the rest',
  );
  assert.equal(lanCarrier([link('enp1s0', { enslaved: true }), link('bond0', { running: false })]), false);
});
