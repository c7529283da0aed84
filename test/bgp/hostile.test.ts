import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  connectToSpeaker,
  freePort,
  type PeerConnection,
  PeerListener,
  type PeerOpenOptions,
  peerOpen,
} from '../../bench/bgp-hostile-peer.ts';
import { logLines, METALBEACON, NODE } from '../../lab/bgp-speaker.ts';
import { Lab, type LabDaemon } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { frameMessage, MessageType, type UpdateMessage } from '../../speaker/bgp/codec/index.ts';
import { tempDir } from '../support/temp-dir.ts';

// `metalbeacon bgp` (the real program) against a peer of our own on loopback that does what a
// broken or hostile router does. Each case checks the RFC's answer, that the process is still
// up afterwards, and that the session comes back after the reconnect backoff.

const BASE = [
  '--local-as',
  '65001',
  '--peer',
  '127.0.0.1',
  '--peer-as',
  '65000',
  '--router-id',
  '192.0.2.10',
];
const QUICK = ['--connect-retry', '1', '--drain-time', '0'];

/** Value of one sample in Prometheus text, 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('hostile BGP peer against metalbeacon bgp (loopback)', { timeout: 180_000 }, () => {
  let lab: Lab;
  const dir = tempDir('mb-hostile-');
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    lab = await Lab.create('bgphostile');
  });
  after(async () => {
    await lab?.destroy();
    for (const c of cleanups) await c();
  });

  /** Starts the speaker toward our peer listener (or passive with `--listen-port`). */
  async function start(args: readonly string[]): Promise<{ speaker: LabDaemon; peers: PeerListener }> {
    const peers = await PeerListener.start();
    cleanups.push(() => peers.close());
    const speaker = lab.spawnHost([
      NODE,
      METALBEACON,
      ...['--log-format', 'json', '--log-level', 'debug', 'bgp'],
      ...BASE,
      ...['--peer-port', String(peers.port)],
      ...QUICK,
      ...args,
    ]);
    return { speaker, peers };
  }

  function assertAlive(speaker: LabDaemon): void {
    assert.equal(speaker.child.exitCode, null, `the speaker exited:\n${speaker.output().slice(-3000)}`);
  }

  /** The time (ms) from the session going down to the next connection attempt, from the log. */
  function backoffAfterDown(speaker: LabDaemon): Promise<number> {
    // The log is written asynchronously: wait for the lines, not just for the connection.
    return waitFor('down, then a new connection attempt in the log', () => {
      const lines = logLines(speaker);
      const down = lines.findIndex((l) => l.msg === 'BGP session down');
      const next = lines.slice(down).find((l) => l.to === 'Connect');
      return down >= 0 && next !== undefined && Number(next.time) - Number(lines[down]!.time);
    });
  }

  /** The session comes back on a new connection: established, table and End-of-RIB again. */
  async function comesBack(
    speaker: LabDaemon,
    peers: PeerListener,
    index: number,
    eors: number,
  ): Promise<void> {
    const again = await peers.connection(index);
    await again.establish(peerOpen());
    await again.until('End-of-RIB again', () => (again.endOfRibs().length === eors ? true : undefined));
    // Backoff from 1 s jittered to 75-100 %: never sooner than 750 ms.
    const backoffMs = await backoffAfterDown(speaker);
    assert.ok(backoffMs >= 750, `backoff ${backoffMs} ms`);
    assertAlive(speaker);
  }

  /** A session with our peer offering `open` (both unicast families by default), up to its End-of-RIBs. */
  async function upWith(open: PeerOpenOptions = {}) {
    const { speaker, peers } = await start([
      '--listen-port',
      '0',
      '--announce',
      '198.51.100.0/24,2001:db8:100::/64',
    ]);
    const c = await peers.connection(0);
    await c.establish(peerOpen(open));
    const families = open.families?.length ?? 2;
    await c.until('End-of-RIB', () => (c.endOfRibs().length === families ? true : undefined));
    return { speaker, peers, c };
  }

  it('a malformed ROUTE-REFRESH of 65,535 octets after extended messages: 7/1 cut to fit, process up, back after backoff', async () => {
    const { speaker, peers, c } = await upWith({ extendedMessage: true });
    const refresh = frameMessage(MessageType.RouteRefresh, new Uint8Array(65_535 - 19).fill(0x5a));
    assert.equal(refresh.length, 65_535);
    c.sendRaw(refresh);
    const n = await c.until('NOTIFICATION', () => c.notification());
    // RFC 7313 §5: 7/1 with the message as data, cut to the 65,535-octet maximum (RFC 8654).
    assert.deepStrictEqual([n.code, n.subcode], [7, 1]);
    assert.equal(n.data.length, 65_535 - 21);
    assert.deepStrictEqual(new Uint8Array(n.data), refresh.subarray(0, 65_535 - 21));
    await c.until('the connection closed', () => (c.closed ? true : undefined));
    assertAlive(speaker);
    await comesBack(speaker, peers, 1, 2);
  });

  it('a ROUTE-REFRESH of 24 octets: 7/1 with the whole message (RFC 7313 §5)', async () => {
    const { speaker, peers } = await start(['--listen-port', '0', '--announce', '198.51.100.0/24']);
    const c = await peers.connection(0);
    await c.establish(peerOpen());
    const refresh = frameMessage(MessageType.RouteRefresh, Uint8Array.of(0, 1, 0, 1, 0));
    c.sendRaw(refresh);
    const n = await c.until('NOTIFICATION', () => c.notification());
    assert.deepStrictEqual([n.code, n.subcode, new Uint8Array(n.data)], [7, 1, refresh]);
    await comesBack(speaker, peers, 1, 2);
  });

  it('a peer that stops reading and floods ROUTE-REFRESH: one pending per family, one answer a second, output bounded, 8/0 after the hold time, back after backoff', async () => {
    const PREFIXES = 5000;
    const prefixes = Array.from({ length: PREFIXES }, (_, i) => `2001:db8:1:${i.toString(16)}::/64`);
    const file = join(dir, 'flood-prefixes');
    await writeFile(file, `${prefixes.join('\n')}\n`);
    const metricsPort = await freePort();
    const { speaker, peers } = await start([
      ...['--listen-port', '0', '--announce-file', file, '--hold-time', '3'],
      ...['--metrics-listen', `127.0.0.1:${metricsPort}`],
    ]);
    // A speaker too busy to answer must fail the test, not hang it.
    const scrape = async () =>
      (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const c = await peers.connection(0);
    await c.establish(peerOpen({ holdTimeSec: 3 }));
    // From now on it reads nothing: its receive window closes once its kernel buffer is full. It
    // stays alive (a KEEPALIVE a second, so our hold timer never expires) and asks for the table
    // again and again: 1,000 ROUTE-REFRESH every 100 ms.
    c.pauseReading();
    const refresh = frameMessage(MessageType.RouteRefresh, Uint8Array.of(0, 2, 0, 1));
    const burst = new Uint8Array(refresh.length * 1000);
    for (let i = 0; i < 1000; i++) burst.set(refresh, i * refresh.length);
    let sent = 0;
    const keepalives = setInterval(() => c.send({ type: 'keepalive' }), 1000);
    const flood = setInterval(() => {
      c.sendRaw(burst);
      sent += 1000;
    }, 100);
    cleanups.push(
      () => clearInterval(keepalives),
      () => clearInterval(flood),
    );
    const floodAt = Date.now();
    let maxQueued = 0;
    const outcomes = await waitFor(
      'the send hold timer reset',
      async () => {
        const text = await scrape();
        maxQueued = Math.max(
          maxQueued,
          sample(text, 'metalbeacon_bgp_output_queued_bytes', 'peer="127.0.0.1"'),
        );
        const reset = sample(
          text,
          'metalbeacon_bgp_session_resets_total',
          'peer="127.0.0.1",cause="send-hold-timer"',
        );
        const count = (outcome: string) =>
          sample(
            text,
            'metalbeacon_bgp_route_refresh_requests_total',
            `peer="127.0.0.1",outcome="${outcome}"`,
          );
        return reset === 1 && { queued: count('queued'), coalesced: count('coalesced') };
      },
      { timeoutMs: 30_000 },
    );
    clearInterval(flood);
    clearInterval(keepalives);
    const floodSec = (Date.now() - floodAt) / 1000;
    // All but about one request a second coalesced into the one pending for IPv6 unicast.
    assert.ok(
      outcomes.coalesced >= 1000 && outcomes.queued + outcomes.coalesced <= sent,
      JSON.stringify({ sent, ...outcomes }),
    );
    assert.ok(outcomes.queued <= Math.ceil(floodSec) + 1, `answered ${outcomes.queued} in ${floodSec} s`);
    const notifications = await waitFor('the NOTIFICATION in the log', () => {
      const lines = logLines(speaker).filter((l) => l.msg === 'NOTIFICATION sent');
      return lines.length > 0 && lines;
    });
    assert.deepStrictEqual(
      notifications.map((l) => [l.code, l.subcode]),
      [[8, 0]],
      'RFC 9687 Send Hold Timer Expired',
    );
    assertAlive(speaker);
    const again = await peers.connection(1);
    await again.establish(peerOpen({ holdTimeSec: 3 }));
    await again.until('the table again', () => (again.endOfRibs().length === 2 ? true : undefined));
    assert.equal(again.announced().length, PREFIXES);
    // What waited for the peer was never more than one table's UPDATEs plus what the socket
    // holds (below its 64 KiB high-water mark plus one write), not a table per request.
    assert.ok(maxQueued <= again.bytesReceived + 2 * 65_536, `output waiting: ${maxQueued} octets`);
    assertAlive(speaker);
  });

  /**
   * Sends a ROUTE-REFRESH for `afi` unicast and returns the UPDATEs answering it: messages are
   * handled in order, so everything the speaker sent before has arrived too.
   */
  async function refreshed(c: PeerConnection, afi: number): Promise<UpdateMessage[]> {
    const before = c.updates().length;
    c.send({ type: 'route-refresh', afi, safi: 1, subtype: 0 });
    await c.until('the answer', () => (c.updates().length > before ? true : undefined));
    return c.updates().slice(before);
  }

  it('ROUTE-REFRESH for a family not negotiated, or of another subtype, is ignored (RFC 2918 §4)', async () => {
    const { speaker, c } = await upWith({ families: [{ afi: 1, safi: 1 }] });
    c.send({ type: 'route-refresh', afi: 2, safi: 1, subtype: 0 });
    c.send({ type: 'route-refresh', afi: 1, safi: 128, subtype: 0 });
    c.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 1 });
    const answer = await refreshed(c, 1);
    assert.deepStrictEqual(
      answer.flatMap((u) => u.nlri),
      ['198.51.100.0/24'],
      'only the last request was answered',
    );
    // The log is written asynchronously: its lines may follow the answer on the wire.
    const ignored = () =>
      logLines(speaker).filter((l) => String(l.msg).startsWith('ROUTE-REFRESH for a family'));
    await waitFor('three refreshes logged as ignored', () => ignored().length >= 3);
    assert.deepStrictEqual(
      ignored().map((l) => [l.afi, l.safi, l.subtype]),
      [
        [2, 1, 0],
        [1, 128, 0],
        [1, 1, 1],
      ],
    );
    assert.equal(c.closed, false);
    assertAlive(speaker);
  });

  it('End-of-RIB only for negotiated families: an IPv6-only peer gets no IPv4 UPDATE at all', async () => {
    const { speaker, c } = await upWith({ families: [{ afi: 2, safi: 1 }] });
    await refreshed(c, 2);
    assert.deepStrictEqual(c.endOfRibs(), [2]);
    assert.ok(
      c
        .updates()
        .every((u) => u.nlri.length === 0 && u.withdrawn.length === 0 && u.attributes.mpReach?.afi !== 1),
    );
    assert.deepStrictEqual(c.announced(), ['2001:db8:100::/64', '2001:db8:100::/64']);
    assertAlive(speaker);
  });

  it('with graceful restart, a peer connecting again replaces its Established session (RFC 4724 §5); without, the new connection is closed', async () => {
    for (const gracefulRestart of [true, false]) {
      const listenPort = await freePort();
      const { speaker } = await start([
        ...['--passive', '--listen-port', String(listenPort), '--listen-address', '127.0.0.1'],
        ...['--announce', '198.51.100.0/24'],
      ]);
      const first = await waitFor('the speaker listening', () =>
        connectToSpeaker(listenPort).catch(() => undefined),
      );
      cleanups.push(() => first.close());
      await first.establish(peerOpen({ gracefulRestart }));
      await first.until('End-of-RIB', () => (first.endOfRibs().length === 2 ? true : undefined));
      // The peer "rebooted" without FIN: its old connection stays open and silent.
      const second = await connectToSpeaker(listenPort);
      cleanups.push(() => second.close());
      if (gracefulRestart) {
        await first.until('the old connection dropped', () => (first.closed ? true : undefined));
        assert.equal(
          first.notification(),
          undefined,
          'dropped without NOTIFICATION: the peer keeps our routes',
        );
        await second.establish(peerOpen({ gracefulRestart }));
        await second.until('the table on the new connection', () =>
          second.endOfRibs().length === 2 ? true : undefined,
        );
        assert.deepStrictEqual(second.announced(), ['198.51.100.0/24']);
      } else {
        await second.until('the new connection closed', () => (second.closed ? true : undefined));
        assert.equal(second.received.length, 0);
        const before = first.updates().length;
        first.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
        await first.until('the old session still answering', () =>
          first.updates().length > before ? true : undefined,
        );
        assert.equal(first.closed, false);
      }
      assertAlive(speaker);
      await speaker.stop();
    }
  });

  it('a connection from an address that is not a peer is closed; the process stays up', async () => {
    const listenPort = await freePort();
    const { speaker } = await start([
      ...['--passive', '--listen-port', String(listenPort), '--listen-address', '127.0.0.1'],
    ]);
    const stranger = await waitFor('the speaker listening', () =>
      connectToSpeaker(listenPort, '127.0.0.2').catch(() => undefined),
    );
    cleanups.push(() => stranger.close());
    stranger.send(peerOpen());
    await stranger.until('closed', () => (stranger.closed ? true : undefined));
    assert.equal(stranger.received.length, 0);
    assertAlive(speaker);
  });
});
