import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arpAndNeighborSolicitationFilter, assembleBpf, runBpf } from './bpf.ts';
import { encodeEthernet } from './frames/ethernet.ts';
import { gratuitousArpRequestFrame, unsolicitedAdvertisementFrame } from './frames/frame.ts';
import { encodeNdp } from './frames/ndp.ts';

const program = arpAndNeighborSolicitationFilter();

test('the filter accepts ARP and NS, drops NA, other ICMPv6, IPv4 and short frames', () => {
  const ns = encodeEthernet({
    destination: '33:33:ff:00:00:07',
    source: '02:00:00:00:00:0a',
    etherType: 0x86dd,
    payload: encodeNdp({
      type: 'ns',
      source: '2001:db8:0:1::10',
      destination: 'ff02::1:ff00:7',
      hopLimit: 255,
      target: '2001:db8:100::7',
      sourceLinkLayer: '02:00:00:00:00:0a',
    }),
  });
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
