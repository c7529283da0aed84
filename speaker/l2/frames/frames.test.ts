import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatIpv6, multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from './addr.ts';
import { ArpOperation, type ArpPacket, decodeArp, encodeArp } from './arp.ts';
import { MIN_FRAME_BYTES } from './ethernet.ts';
import {
  arpReplyFrame,
  decodeFrame,
  encodeNdpFrame,
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
  type L2Frame,
  solicitedAdvertisementFrame,
  unsolicitedAdvertisementFrame,
} from './frame.ts';
import { decodeNdp, encodeNdp, type NdpMessage, type NeighborSolicitation } from './ndp.ts';
import { FrameErrorCode, isIgnored } from './result.ts';

/** Hex with `#` comments to the end of the line (annotated fixtures). */
const hex = (text: string) =>
  Uint8Array.from(Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex'));

// Captured from the Linux kernel in a lab namespace (host 192.0.2.10 / 2001:db8:0:1::10,
// MAC 02:00:00:00:00:0a) resolving 192.0.2.99 and 2001:db8:0:1::99.
const KERNEL_ARP_REQUEST = hex(`
  ffffffffffff 02000000000a 0806   # ethernet: broadcast, from 02:..:0a, ARP
  0001 0800 06 04 0001             # Ethernet/IPv4, request
  02000000000a c000020a            # sender 02:..:0a 192.0.2.10
  000000000000 c0000263            # target unknown, 192.0.2.99
`);
const KERNEL_NS = hex(`
  3333ff000099 02000000000a 86dd   # to the solicited-node MAC, IPv6
  60000000 0020 3a ff              # 32 bytes of ICMPv6, hop limit 255
  20010db8000000010000000000000010 # source 2001:db8:0:1::10
  ff0200000000000000000001ff000099 # destination ff02::1:ff00:99
  87 00 1adf 00000000              # NS, code 0, checksum, reserved
  20010db8000000010000000000000099 # target 2001:db8:0:1::99
  01 01 02000000000a               # source link-layer option
`);

const mac = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((b) => Buffer.from(b).toString('hex').match(/../g)!.join(':'));
const ipv4 = fc.ipV4();
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));
const unicastIpv6 = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .filter((b) => b[0] !== 0xff)
  .map((b) => formatIpv6(b));

describe('addresses', () => {
  test('IPv6 text is RFC 5952 canonical', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:1:0:0:0:10', '2001:db8:0:1::10'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['2001:db8:1:1:1:1:1:0', '2001:db8:1:1:1:1:1:0'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['ff02::1', 'ff02::1'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIpv6(parseIpv6(input)!), canonical, input);
  });

  test('solicited-node group and its MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    assert.equal(solicitedNodeAddress('2001:db8:100::1:2a'), 'ff02::1:ff01:2a');
    assert.equal(multicastMac('ff02::1:ff01:2a'), '33:33:ff:01:00:2a');
    assert.equal(multicastMac('ff02::1'), '33:33:00:00:00:01');
  });

  test('MAC parsing rejects what is not six hex bytes', () => {
    assert.deepEqual(parseMac('02:00:00:00:00:0A'), new Uint8Array([2, 0, 0, 0, 0, 10]));
    for (const bad of ['', '02:00:00:00:00', '02:00:00:00:00:0g', '02:00:00:00:00:100']) {
      assert.equal(parseMac(bad), undefined, bad);
    }
  });
});

describe('ARP (RFC 826)', () => {
  test('decodes a kernel request and encodes it back byte for byte (plus padding)', () => {
    const decoded = decodeFrame(KERNEL_ARP_REQUEST);
    assert.ok(decoded.ok);
    const expected: L2Frame = {
      kind: 'arp',
      destination: 'ff:ff:ff:ff:ff:ff',
      source: '02:00:00:00:00:0a',
      arp: {
        operation: ArpOperation.Request,
        senderMac: '02:00:00:00:00:0a',
        senderIp: '192.0.2.10',
        targetMac: '00:00:00:00:00:00',
        targetIp: '192.0.2.99',
      },
    };
    assert.deepEqual(decoded.value, expected);
    const again = gratuitousArpRequestFrame('192.0.2.10', '02:00:00:00:00:0a');
    assert.equal(again.length, MIN_FRAME_BYTES);
    const arp = expected.kind === 'arp' ? expected.arp : undefined;
    assert.deepEqual(encodeArp(arp!), KERNEL_ARP_REQUEST.subarray(14));
  });

  test('round trip for any packet', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2),
        mac,
        ipv4,
        mac,
        ipv4,
        (operation, senderMac, senderIp, targetMac, targetIp) => {
          const packet: ArpPacket = {
            operation: operation as 1 | 2,
            senderMac,
            senderIp,
            targetMac,
            targetIp,
          };
          assert.deepEqual(decodeArp(encodeArp(packet)), { ok: true, value: packet });
        },
      ),
    );
  });

  test('typed errors for wrong types, lengths, operation and truncation', () => {
    const good = encodeArp({
      operation: 1,
      senderMac: '02:00:00:00:00:01',
      senderIp: '192.0.2.1',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.51.100.1',
    });
    const mutate = (index: number, value: number) => {
      const copy = good.slice();
      copy[index] = value;
      return copy;
    };
    const code = (bytes: Uint8Array) => {
      const result = decodeArp(bytes);
      return result.ok ? 'ok' : result.error.code;
    };
    assert.equal(code(mutate(1, 6)), FrameErrorCode.BadHardwareType);
    assert.equal(code(mutate(2, 0x86)), FrameErrorCode.BadProtocolType);
    assert.equal(code(mutate(4, 8)), FrameErrorCode.BadAddressLength);
    assert.equal(code(mutate(7, 3)), FrameErrorCode.BadOperation);
    for (let length = 0; length < good.length; length++) {
      assert.equal(code(good.subarray(0, length)), FrameErrorCode.Truncated, `length ${length}`);
    }
  });

  test('reply goes to the asker with our MAC as sender and the asked IP as sender IP', () => {
    const request: ArpPacket = {
      operation: 1,
      senderMac: '02:00:00:00:00:0a',
      senderIp: '192.0.2.10',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.51.100.7',
    };
    const frame = arpReplyFrame(request, '02:00:00:00:00:0a', '02:00:00:00:00:01');
    assert.equal(frame.length, MIN_FRAME_BYTES);
    assert.deepEqual(frame.subarray(42), new Uint8Array(18), 'padding is zeros');
    assert.deepEqual(decodeFrame(frame), {
      ok: true,
      value: {
        kind: 'arp',
        destination: '02:00:00:00:00:0a',
        source: '02:00:00:00:00:01',
        arp: {
          operation: 2,
          senderMac: '02:00:00:00:00:01',
          senderIp: '198.51.100.7',
          targetMac: '02:00:00:00:00:0a',
          targetIp: '192.0.2.10',
        },
      },
    });
  });

  test('gratuitous ARP: RFC 5227 announcement (request) and RFC 2002 reply form, both broadcast', () => {
    const request = decodeFrame(gratuitousArpRequestFrame('198.51.100.7', '02:00:00:00:00:01'));
    const reply = decodeFrame(gratuitousArpReplyFrame('198.51.100.7', '02:00:00:00:00:01'));
    assert.ok(request.ok && request.value.kind === 'arp');
    assert.ok(reply.ok && reply.value.kind === 'arp');
    assert.equal(request.value.destination, 'ff:ff:ff:ff:ff:ff');
    assert.deepEqual(request.value.arp, {
      operation: 1,
      senderMac: '02:00:00:00:00:01',
      senderIp: '198.51.100.7',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.51.100.7',
    });
    assert.equal(reply.value.destination, 'ff:ff:ff:ff:ff:ff');
    assert.deepEqual(reply.value.arp, {
      operation: 2,
      senderMac: '02:00:00:00:00:01',
      senderIp: '198.51.100.7',
      targetMac: '02:00:00:00:00:01',
      targetIp: '198.51.100.7',
    });
  });
});

describe('NDP (RFC 4861)', () => {
  test('decodes a kernel NS (checksum verified) and encodes it back byte for byte', () => {
    const decoded = decodeFrame(KERNEL_NS);
    const ns: NeighborSolicitation = {
      type: 'ns',
      source: '2001:db8:0:1::10',
      destination: 'ff02::1:ff00:99',
      hopLimit: 255,
      target: '2001:db8:0:1::99',
      sourceLinkLayer: '02:00:00:00:00:0a',
    };
    assert.deepEqual(decoded, {
      ok: true,
      value: { kind: 'ndp', destination: '33:33:ff:00:00:99', source: '02:00:00:00:00:0a', ndp: ns },
    });
    assert.deepEqual(encodeNdpFrame('33:33:ff:00:00:99', '02:00:00:00:00:0a', ns), KERNEL_NS);
  });

  test('round trip for any NS or NA; the checksum always verifies', () => {
    const ns = fc.record({
      type: fc.constant('ns' as const),
      source: ipv6,
      destination: ipv6,
      hopLimit: fc.constant(255),
      target: unicastIpv6,
      sourceLinkLayer: fc.option(mac, { nil: undefined }),
    });
    const na = fc.record({
      type: fc.constant('na' as const),
      source: ipv6,
      destination: unicastIpv6,
      hopLimit: fc.constant(255),
      router: fc.boolean(),
      solicited: fc.boolean(),
      override: fc.boolean(),
      target: unicastIpv6,
      targetLinkLayer: fc.option(mac, { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.oneof(ns, na), (message: NdpMessage) => {
        const valid = !(message.type === 'ns' && message.source === '::');
        fc.pre(valid);
        assert.deepEqual(decodeNdp(encodeNdp(message)), { ok: true, value: { ...message } });
      }),
    );
  });

  test('RFC 4861 §7.1 validity checks give typed errors', () => {
    const ipv6Packet = KERNEL_NS.subarray(14);
    const code = (bytes: Uint8Array) => {
      const result = decodeNdp(bytes);
      return result.ok ? 'ok' : result.error.code;
    };
    const mutate = (index: number, value: number) => {
      const copy = ipv6Packet.slice();
      copy[index] = value;
      return copy;
    };
    assert.equal(code(mutate(7, 254)), FrameErrorCode.BadHopLimit);
    assert.equal(code(mutate(43, 0x00)), FrameErrorCode.BadChecksum);
    assert.equal(code(mutate(41, 1)), FrameErrorCode.BadCode);
    assert.equal(code(mutate(0, 0x40)), FrameErrorCode.BadVersion);
    assert.equal(code(mutate(6, 17)), FrameErrorCode.IgnoredNextHeader);
    assert.equal(code(mutate(40, 128)), FrameErrorCode.IgnoredIcmpType);
    // A zero-length option must be rejected even with a correct checksum.
    const zeroOption = encodeNdp({
      type: 'ns',
      source: '2001:db8:0:1::10',
      destination: 'ff02::1:ff00:99',
      hopLimit: 255,
      target: '2001:db8:0:1::99',
      sourceLinkLayer: '02:00:00:00:00:0a',
    });
    zeroOption[65] = 0;
    const sum = (zeroOption[42]! << 8) | zeroOption[43]!;
    const fixed = (sum + 1) & 0xffff; // one's complement: field rises by the byte we removed
    zeroOption[42] = fixed >> 8;
    zeroOption[43] = fixed & 0xff;
    assert.equal(code(zeroOption), FrameErrorCode.BadOption);
    for (let length = 0; length < ipv6Packet.length; length++) {
      const result = decodeNdp(ipv6Packet.subarray(0, length));
      assert.ok(!result.ok && !isIgnored(result.error.code), `length ${length} must be malformed`);
    }
  });

  test('DAD probe (source ::) with a source link-layer option is malformed', () => {
    const probe = encodeNdp({
      type: 'ns',
      source: '::',
      destination: 'ff02::1:ff00:99',
      hopLimit: 255,
      target: '2001:db8:0:1::99',
      sourceLinkLayer: '02:00:00:00:00:0a',
    });
    const result = decodeNdp(probe);
    assert.ok(!result.ok && result.error.code === FrameErrorCode.BadOption);
  });

  test('solicited NA: from the target, to the asker, hop limit 255, S|O, target link-layer option', () => {
    const decoded = decodeFrame(KERNEL_NS);
    assert.ok(decoded.ok && decoded.value.kind === 'ndp' && decoded.value.ndp.type === 'ns');
    const reply = decodeFrame(
      solicitedAdvertisementFrame(decoded.value.ndp, decoded.value.source, '02:00:00:00:00:01'),
    );
    assert.deepEqual(reply, {
      ok: true,
      value: {
        kind: 'ndp',
        destination: '02:00:00:00:00:0a',
        source: '02:00:00:00:00:01',
        ndp: {
          type: 'na',
          source: '2001:db8:0:1::99',
          destination: '2001:db8:0:1::10',
          hopLimit: 255,
          router: false,
          solicited: true,
          override: true,
          target: '2001:db8:0:1::99',
          targetLinkLayer: '02:00:00:00:00:01',
        },
      },
    });
  });

  test('DAD probe is answered to all-nodes without S; unsolicited NA has O only', () => {
    const probe: NeighborSolicitation = {
      type: 'ns',
      source: '::',
      destination: 'ff02::1:ff00:7',
      hopLimit: 255,
      target: '2001:db8:100::7',
      sourceLinkLayer: undefined,
    };
    for (const frame of [
      solicitedAdvertisementFrame(probe, '02:00:00:00:00:0a', '02:00:00:00:00:01'),
      unsolicitedAdvertisementFrame('2001:db8:100::7', '02:00:00:00:00:01'),
    ]) {
      const decoded = decodeFrame(frame);
      assert.ok(decoded.ok && decoded.value.kind === 'ndp' && decoded.value.ndp.type === 'na');
      assert.equal(decoded.value.destination, '33:33:00:00:00:01');
      assert.equal(decoded.value.ndp.destination, 'ff02::1');
      assert.equal(decoded.value.ndp.source, '2001:db8:100::7');
      assert.equal(decoded.value.ndp.solicited, false);
      assert.equal(decoded.value.ndp.override, true);
      assert.equal(decoded.value.ndp.targetLinkLayer, '02:00:00:00:00:01');
    }
  });
});

describe('hostile input', () => {
  test('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeFrame(bytes);
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: 5000 },
    );
  });

  test('valid frames with random bytes changed or cut off never throw', () => {
    const seeds = [KERNEL_ARP_REQUEST, KERNEL_NS];
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (seed, changes, cut) => {
          const bytes = seed.slice(0, cut % (seed.length + 1) || seed.length);
          for (const [index, value] of changes) if (bytes.length > 0) bytes[index % bytes.length] = value;
          const result = decodeFrame(bytes);
          if (!result.ok) assert.ok(Object.values(FrameErrorCode).includes(result.error.code));
        },
      ),
      { numRuns: 5000 },
    );
  });
});
