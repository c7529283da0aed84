import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseIpv6 } from '../frames/addr.ts';
import { encodeEthernet } from '../frames/ethernet.ts';
import {
  encodeArpFrame,
  encodeNdpFrame,
  gratuitousArpRequestFrame,
  unsolicitedAdvertisementFrame,
} from '../frames/frame.ts';
import { encodeMembershipFrame } from '../frames/membership.ts';
import {
  arpAndNeighborSolicitationFilter,
  assembleBpf,
  ownedAddressFilter,
  responderFilter,
  runBpf,
} from './bpf.ts';

const program = arpAndNeighborSolicitationFilter();

/** A neighbor solicitation for `target` from a client. */
const solicitation = (target: string) =>
  encodeNdpFrame('33:33:ff:00:00:07', '02:00:00:00:00:0a', {
    type: 'ns',
    source: '2001:db8:0:1::10',
    destination: 'ff02::1:ff00:7',
    hopLimit: 255,
    target,
    sourceLinkLayer: '02:00:00:00:00:0a',
  });

test('the filter accepts ARP and NS, drops NA, other ICMPv6, IPv4 and short frames', () => {
  const ns = solicitation('2001:db8:100::7');
  assert.notEqual(runBpf(program, gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:01')), 0);
  assert.notEqual(runBpf(program, ns), 0);
  assert.equal(runBpf(program, unsolicitedAdvertisementFrame('2001:db8:100::7', '02:00:00:00:00:01')), 0);
  const ipv4 = encodeEthernet({
    destination: '02:00:00:00:00:01',
    source: '02:00:00:00:00:0a',
    etherType: 0x0800,
    payload: new Uint8Array(40),
  });
  assert.equal(runBpf(program, ipv4), 0);
  const udp6 = ns.slice();
  udp6[20] = 17;
  assert.equal(runBpf(program, udp6), 0);
  assert.equal(runBpf(program, ns.subarray(0, 40)), 0, 'out-of-bounds load drops, as in the kernel');
});

test('assembled as struct sock_filter: u16 code, u8 jt, u8 jf, u32 k (little-endian host)', () => {
  const bytes = assembleBpf(program);
  assert.equal(bytes.length, program.length * 8);
  assert.deepEqual([...bytes.subarray(8, 16)], [0x15, 0, 5, 0, 0x06, 0x08, 0, 0]);
});

const membershipFrame = encodeMembershipFrame('02:00:00:00:00:01', '02:00:00:00:00:02', new Uint8Array(80));
const otherEtherType = encodeEthernet({
  destination: '02:00:00:00:00:01',
  source: '02:00:00:00:00:02',
  etherType: 0x88b6,
  payload: new Uint8Array(80),
});

test('the responder filter: ARP, NS, NA and membership frames; nothing else', () => {
  const responder = responderFilter();
  const accepted = (frame: Uint8Array) => runBpf(responder, frame) !== 0;
  assert.equal(accepted(gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:01')), true);
  assert.equal(accepted(unsolicitedAdvertisementFrame('2001:db8:100::7', '02:00:00:00:00:01')), true);
  assert.equal(accepted(solicitation('2001:db8:100::7')), true);
  assert.equal(accepted(membershipFrame), true);
  assert.equal(accepted(otherEtherType), false);
  const echo = unsolicitedAdvertisementFrame('2001:db8:100::7', '02:00:00:00:00:01').slice();
  echo[54] = 128;
  assert.equal(accepted(echo), false, 'ICMPv6 echo request');
});

describe('ownedAddressFilter', () => {
  const owned = ownedAddressFilter(['198.51.100.7', '198.51.100.9'], [parseIpv6('2001:db8:100::7')!])!;
  const request = (targetIp: string, senderIp = '192.0.2.10') =>
    encodeArpFrame('ff:ff:ff:ff:ff:ff', '02:00:00:00:00:0a', {
      operation: 1,
      senderMac: '02:00:00:00:00:0a',
      senderIp,
      targetMac: '00:00:00:00:00:00',
      targetIp,
    });
  const ns = solicitation;

  test('passes requests for owned IPs and claims of them; drops the rest in the kernel', () => {
    assert.notEqual(runBpf(owned, request('198.51.100.7')), 0);
    assert.notEqual(runBpf(owned, request('198.51.100.9')), 0);
    assert.notEqual(
      runBpf(owned, gratuitousArpRequestFrame('198.51.100.9', '02:00:00:00:00:02')),
      0,
      'conflict',
    );
    assert.equal(runBpf(owned, request('198.51.100.8')), 0);
    assert.notEqual(runBpf(owned, ns('2001:db8:100::7')), 0);
    assert.equal(runBpf(owned, ns('2001:db8:100::8')), 0);
    assert.equal(runBpf(owned, ns('2001:db8:101::7')), 0);
    assert.notEqual(
      runBpf(owned, unsolicitedAdvertisementFrame('2001:db8:100::7', '02:00:00:00:00:02')),
      0,
      'a NA for an owned IP: a conflict',
    );
    assert.equal(runBpf(owned, unsolicitedAdvertisementFrame('2001:db8:100::8', '02:00:00:00:00:02')), 0);
    assert.notEqual(runBpf(owned, membershipFrame), 0);
    assert.equal(runBpf(owned, otherEtherType), 0);
  });

  test('passes frames too short or too odd to judge, so userspace counts them as malformed', () => {
    const frame = request('198.51.100.8');
    assert.notEqual(runBpf(owned, frame.subarray(0, 30)), 0);
    const oddHardware = frame.slice();
    oddHardware[15] = 6;
    assert.notEqual(runBpf(owned, oddHardware), 0);
    assert.notEqual(runBpf(owned, ns('2001:db8:100::8').subarray(0, 70)), 0);
  });

  test('agrees with the responder on random owned sets and targets', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 254 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 254 }),
        (hosts, target) => {
          const ips = hosts.map((h) => `198.51.100.${h}`);
          const program = ownedAddressFilter(ips, [])!;
          assert.equal(runBpf(program, request(`198.51.100.${target}`)) !== 0, hosts.includes(target));
        },
      ),
    );
  });

  test('too many addresses for one program: undefined, so the caller falls back', () => {
    const many = Array.from({ length: 500 }, (_, i) => parseIpv6(`2001:db8:100::${i.toString(16)}`)!);
    assert.equal(ownedAddressFilter([], many), undefined);
  });
});
