import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { loadNative } from '../../native/index.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

// The addon's UDP socket (native/udp-socket.cc) on loopback: what BFD needs of it and node:dgram
// cannot give — the TTL / hop limit of each received datagram (GTSM, RFC 5881 §5), a fixed TTL
// on what it sends, a chosen source port, and the source address the route picks.
const { UdpSocket } = loadNative();

interface Received {
  length: number;
  ttl: number;
  address: string;
  port: number;
}

function receiver(family: 4 | 6, address: string) {
  const got: Received[] = [];
  const socket = new UdpSocket({
    family,
    address,
    port: 0,
    onMessage: (payload, ttl, from, port) => got.push({ length: payload.length, ttl, address: from, port }),
  });
  return { socket, got, port: socket.local().port };
}

describe('native UdpSocket', () => {
  for (const [family, address, udp] of [
    [4, '127.0.0.1', 'udp4'],
    [6, '::1', 'udp6'],
  ] as const) {
    it(`IPv${family}: reports each datagram's TTL; sends with its own TTL from the port it was given`, async () => {
      const rx = receiver(family, address);
      const tx = new UdpSocket({ family, port: 0, ttl: 255, connect: { address, port: rx.port } });
      const dgram = createSocket(udp);
      try {
        const from = tx.local();
        assert.equal(from.address, address, 'the route chose the source address');
        assert.equal(tx.send(new Uint8Array(24)), 24);
        await new Promise<void>((resolve) => dgram.bind(0, address, () => resolve()));
        dgram.setTTL(7);
        await new Promise((resolve) => dgram.send(Buffer.alloc(9000, 1), rx.port, address, resolve));
        await waitFor('both datagrams', () => rx.got.length === 2);
        assert.deepEqual(rx.got[0], { length: 24, ttl: 255, address, port: from.port });
        // An oversized datagram is read cut to 2 KiB, never grown into.
        assert.deepEqual(rx.got[1], { length: 2048, ttl: 7, address, port: dgram.address().port });
      } finally {
        dgram.close();
        tx.close();
        rx.socket.close();
      }
    });
  }

  it('binds the port it is given, or throws EADDRINUSE; errors carry their code', () => {
    const first = new UdpSocket({ family: 4, address: '127.0.0.1', port: 0 });
    const { port } = first.local();
    try {
      assert.throws(
        () => new UdpSocket({ family: 4, address: '127.0.0.1', port }),
        (e: unknown) => (e as { code?: string }).code === 'EADDRINUSE',
      );
      assert.throws(
        () => new UdpSocket({ family: 4, address: '::1', port: 0 }),
        (e: unknown) => (e as { code?: string }).code === 'EINVAL',
      );
      assert.throws(() => new UdpSocket({ family: 4, port: 0, ttl: 0 }), /TTL must be 1\.\.255/);
      assert.throws(() => first.send(new Uint8Array(1)), /unconnected socket needs an address/);
    } finally {
      first.close();
    }
    first.close(); // idempotent
    assert.throws(() => first.send(new Uint8Array(1), '127.0.0.1', 9), /socket is closed/);
  });
});
