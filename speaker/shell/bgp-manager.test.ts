import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { Registry } from '../../shared/metrics/metrics.ts';
import { parseIp } from '../../shared/net/ip.ts';
import type { PeerPlan } from '../announce/types.ts';
import { BgpFramer, type BgpMessage, encodeMessage } from '../bgp/codec/index.ts';
import { nativeSocketOptions } from '../bgp/native-socket.ts';
import type { SocketOptions } from '../bgp/socket-options.ts';
import { BgpManager } from './bgp-manager.ts';
import { capturedLog, peerConfig } from './test-helpers.ts';

// The BGP manager's listener over loopback: BGPPeers at 127.0.0.x, a router that connects to
// the speaker from the peer's address. Each session also connects out to its peer's address,
// where a silent TCP server (127.0.0.2 only) holds it in OpenSent; elsewhere nothing listens.

const UNKNOWN_PEER = 'connection from an address that is not a configured peer; closed';

/** A port free on 127.0.0.1 now (the manager's listener takes it next). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Accepts connections on `host` and never answers (keeps the connections until closed). */
async function silentServer(host: string): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function plan(name: string, address: string, peerPort: number, password?: string): PeerPlan {
  const peer = peerConfig({
    name,
    myAsn: 65001,
    peerAsn: 65000,
    peerAddress: parseIp(address)!,
    peerPort,
    password,
  });
  return { peer, routes: [] };
}

/**
 * The router's side: connects from `from` to the speaker's listener, sends its OPEN and reads
 * until the speaker answers with an OPEN (`answered`) or closes the connection (`closed`).
 */
async function routerConnects(from: string, port: number): Promise<'answered' | 'closed'> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
  const framer = new BgpFramer({ fourOctetAs: true, extendedMessage: false });
  const received: BgpMessage[] = [];
  const result = await new Promise<'answered' | 'closed'>((resolve) => {
    socket.on('error', () => {});
    socket.on('connect', () =>
      socket.write(
        encodeMessage(
          {
            type: 'open',
            version: 4,
            myAs: 65000,
            holdTimeSec: 90,
            bgpId: '192.0.2.1',
            capabilities: [{ kind: 'four-octet-as', asn: 65000 }],
          },
          { fourOctetAs: true, extendedMessage: false },
        ),
      ),
    );
    socket.on('data', (chunk) => {
      received.push(...framer.push(chunk));
      if (received.some((m) => m.type === 'open')) resolve('answered');
    });
    socket.on('close', () => resolve('closed'));
  });
  socket.destroy();
  return result;
}

describe('BgpManager: the listener follows the BGPPeers', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function manager(socketOptions?: SocketOptions) {
    const { log, lines } = capturedLog();
    const listenPort = await freePort();
    const bgp = new BgpManager({
      log,
      registry: new Registry(),
      socketOptions,
      listenPort,
      listenHost: '127.0.0.1',
      nodeAddresses: () => ['192.0.2.10'],
      onChange: () => {},
      now: () => Date.now(),
    });
    cleanups.push(() => bgp.abort());
    const refusedFrom = (remote: string) =>
      lines.filter((l) => l.msg === UNKNOWN_PEER && l.remote === remote).length;
    return { bgp, listenPort, refusedFrom };
  }

  it('a removed peer: its address is refused as unknown and the listener keeps nothing of it; added again, a fresh session answers', async () => {
    const router = await silentServer('127.0.0.2');
    cleanups.push(router.close);
    const { bgp, listenPort, refusedFrom } = await manager();
    const peer = plan('router', '127.0.0.2', router.port);

    await bgp.apply([peer]);
    assert.deepEqual(bgp.acceptingFrom, ['127.0.0.2']);
    assert.equal(await routerConnects('127.0.0.2', listenPort), 'answered');

    await bgp.apply([]);
    assert.deepEqual(bgp.acceptingFrom, [], 'the stopped session is no longer registered');
    assert.equal(await routerConnects('127.0.0.2', listenPort), 'closed', 'no OPEN for a removed peer');
    assert.equal(refusedFrom('127.0.0.2'), 1, 'refused as from an unknown peer, not by a stopped session');

    await bgp.apply([peer]);
    assert.deepEqual(bgp.acceptingFrom, ['127.0.0.2']);
    assert.equal(await routerConnects('127.0.0.2', listenPort), 'answered', 'the new session takes it');
    assert.deepEqual(
      bgp.reports().map((r) => r.peerAddress),
      ['127.0.0.2'],
    );
  });

  it('a peer whose address changes: the old address is refused, the new one answered', async () => {
    const router = await silentServer('127.0.0.2');
    cleanups.push(router.close);
    const { bgp, listenPort, refusedFrom } = await manager();

    await bgp.apply([plan('router', '127.0.0.3', router.port)]);
    await bgp.apply([plan('router', '127.0.0.2', router.port)]);
    assert.deepEqual(bgp.acceptingFrom, ['127.0.0.2']);
    assert.equal(await routerConnects('127.0.0.3', listenPort), 'closed');
    assert.equal(refusedFrom('127.0.0.3'), 1);
    assert.equal(await routerConnects('127.0.0.2', listenPort), 'answered');
  });

  it('a connection while the peer is being removed is refused as from an unknown peer', async () => {
    const router = await silentServer('127.0.0.2');
    cleanups.push(router.close);
    const { bgp, listenPort, refusedFrom } = await manager();
    await bgp.apply([plan('router', '127.0.0.2', router.port)]);

    const removing = bgp.apply([]); // closing the session's connections takes a few round trips
    const during = await routerConnects('127.0.0.2', listenPort);
    await removing;
    assert.equal(during, 'closed');
    assert.equal(refusedFrom('127.0.0.2'), 1);
    assert.deepEqual(bgp.acceptingFrom, []);
  });

  // Without the fix this test does not fail with an assertion but hangs until its timeout: the
  // kernel drops the unsigned SYN in silence (RFC 2385), and nothing else can be observed.
  it('a removed peer takes its TCP MD5 key off the listening socket: added again without one, it is answered', {
    timeout: 30_000,
  }, async () => {
    const router = await silentServer('127.0.0.2');
    cleanups.push(router.close);
    const { bgp, listenPort } = await manager(nativeSocketOptions());
    await bgp.apply([plan('router', '127.0.0.2', router.port, 'old-key')]);
    await bgp.apply([]);
    await bgp.apply([plan('router', '127.0.0.2', router.port)]);
    assert.equal(await routerConnects('127.0.0.2', listenPort), 'answered');
  });

  it('adversarial: 300 peers added and removed in turn leave only the configured ones registered', async () => {
    const { bgp, listenPort, refusedFrom } = await manager();
    // Nothing listens on that port: each session's own connection is refused at once and retried.
    const closed = await freePort();
    const address = (i: number) => `127.0.1.${1 + (i % 250)}`;
    const kept = plan('kept', '127.0.2.1', closed);
    for (let i = 0; i < 300; i++) {
      await bgp.apply([kept, plan(`churn-${i}`, address(i), closed)]);
      // Every other one changes its address before it goes (a restart, not a stop).
      await bgp.apply(i % 2 === 0 ? [kept] : [kept, plan(`churn-${i}`, address(i + 1), closed)]);
    }
    await bgp.apply([kept]);
    assert.deepEqual(bgp.acceptingFrom, ['127.0.2.1']);
    assert.equal(bgp.reports().length, 1);
    for (const from of ['127.0.1.1', '127.0.1.50', '127.0.1.250']) {
      assert.equal(await routerConnects(from, listenPort), 'closed');
      assert.equal(refusedFrom(from), 1, from);
    }
  });
});
