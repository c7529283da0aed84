import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CONTEXT } from '../codec/index.ts';
import { type InterfaceAddress, localLink, ribSessionFor } from './next-hops.ts';

const V4 = { afi: 1, safi: 1 };
const V6 = { afi: 2, safi: 1 };

const LAN: InterfaceAddress[] = [
  { address: '192.0.2.11', family: 'IPv4', cidr: '192.0.2.11/24' },
  { address: '2001:db8:0:1::11', family: 'IPv6', cidr: '2001:db8:0:1::11/64' },
  { address: 'fe80::11', family: 'IPv6', cidr: 'fe80::11/64' },
];
const LOOPBACK: InterfaceAddress[] = [{ address: '127.0.0.1', family: 'IPv4', cidr: '127.0.0.1/8' }];

describe('localLink: the interface holding the local address', () => {
  it('names the other addresses of that interface and sees a peer on its subnet', () => {
    assert.deepStrictEqual(localLink([LOOPBACK, LAN], '192.0.2.11', '192.0.2.1'), {
      sharedLink: true,
      ipv4: '192.0.2.11',
      ipv6Global: '2001:db8:0:1::11',
      ipv6LinkLocal: 'fe80::11',
    });
  });
  it('a peer beyond a router is not on a shared link', () => {
    assert.equal(localLink([LAN], '2001:db8:0:1::11', '203.0.113.1').sharedLink, false);
  });
  it('an address no interface holds gives nothing (and an unparsable peer no shared link)', () => {
    assert.deepStrictEqual(localLink([LOOPBACK, undefined, LAN], '198.51.100.9', '192.0.2.1'), {
      sharedLink: false,
    });
    assert.equal(localLink([LAN], '192.0.2.11', 'not-an-ip').sharedLink, false);
  });
});

describe('ribSessionFor: next hops and families of an Established session', () => {
  const base = { localAs: 64512, peerAs: 64513, context: DEFAULT_CONTEXT, negotiated: [V4, V6] };
  /** The session on a connection from `localAddress` to `peer` across the LAN interface. */
  const onLan = (localAddress: string, peer: string, overrides: object = {}) =>
    ribSessionFor({ ...base, localAddress, link: localLink([LAN], localAddress, peer), ...overrides });

  it('IPv4 connection on a shared link: IPv4 local address, IPv6 global plus link-local', () => {
    const { session, withoutNextHop } = onLan('192.0.2.11', '192.0.2.1');
    assert.equal(session.nextHopIpv4, '192.0.2.11');
    assert.deepStrictEqual(session.nextHopIpv6, { global: '2001:db8:0:1::11', linkLocal: 'fe80::11' });
    assert.deepStrictEqual(session.families, ['IPv4', 'IPv6']);
    assert.deepStrictEqual(withoutNextHop, []);
  });

  it('IPv6 connection to a peer beyond a router: no link-local next hop', () => {
    const { session } = onLan('2001:db8:0:1::11', '2001:db8:ff::1');
    assert.deepStrictEqual(session.nextHopIpv6, { global: '2001:db8:0:1::11' });
    assert.equal(session.nextHopIpv4, '192.0.2.11');
  });

  it('configured next hops win over the local addresses', () => {
    const { session } = onLan('192.0.2.11', '192.0.2.1', {
      nextHopIpv4: '192.0.2.99',
      nextHopIpv6: '2001:db8:0:1::99',
    });
    assert.equal(session.nextHopIpv4, '192.0.2.99');
    assert.deepStrictEqual(session.nextHopIpv6, { global: '2001:db8:0:1::99', linkLocal: 'fe80::11' });
  });

  it('a family without a next hop is announced empty but still gets End-of-RIB', () => {
    const { session, withoutNextHop } = ribSessionFor({
      ...base,
      localAddress: '127.0.0.1',
      link: localLink([LOOPBACK], '127.0.0.1', '127.0.0.2'),
    });
    assert.equal(session.nextHopIpv4, '127.0.0.1');
    assert.equal(session.nextHopIpv6, undefined);
    assert.deepStrictEqual(session.families, ['IPv4']);
    assert.deepStrictEqual(session.endOfRibFamilies, ['IPv4', 'IPv6']);
    assert.deepStrictEqual(withoutNextHop, ['IPv6']);
  });

  it('a link-local local address is no global IPv6 next hop', () => {
    const { session } = ribSessionFor({
      ...base,
      negotiated: [V6],
      localAddress: 'fe80::11',
      link: { sharedLink: true, ipv6LinkLocal: 'fe80::11' },
    });
    assert.equal(session.nextHopIpv6, undefined);
  });
});
