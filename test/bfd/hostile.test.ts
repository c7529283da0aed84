import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NODE } from '../../lab/bgp-speaker.ts';
import type { Lab } from '../../lab/netns.ts';
import type { Bird } from '../../lab/peers/bird.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { controlPacket } from '../../speaker/bfd/codec/fixtures.ts';
import { type ControlPacket, encodeControlPacket } from '../../speaker/bfd/codec/index.ts';
import type { BfdSnapshot } from '../../speaker/bfd/engine/index.ts';
import { BfdNode, startBfdLan } from './harness.ts';

// What a LAN host (or a spoofer off the link) can send our BFD sockets: every datagram that is
// malformed, oversized, for no session, from the wrong source or with the wrong TTL is counted
// by reason and dropped; a flood of them creates no session and no state, and the process lives
// on. Our sessions run on the network thread of a fixture (bfd-node.ts) facing BIRD; the
// attacker sends with node:dgram from its own namespace on the LAN.
const SEND = fileURLToPath(new URL('./send-udp.ts', import.meta.url));
const TIMERS = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false };

const packet = (extra: Partial<ControlPacket>) =>
  Buffer.from(encodeControlPacket(controlPacket(extra))).toString('hex');

const total = (counts: object) => Object.values(counts).reduce((a: number, b) => a + (b as number), 0);

describe('BFD under hostile input', { timeout: 180_000 }, () => {
  let lab: Lab;
  let bird: Bird;
  let node: BfdNode;

  async function send(ns: string, args: object): Promise<number> {
    const r = await lab.exec(ns, [NODE, SEND, JSON.stringify(args)], { timeoutMs: 120_000 });
    return (JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { sent: number }).sent;
  }

  before(async () => {
    ({ lab, bird } = await startBfdLan('bfdhostile', { attacker: { ipv4: '192.0.2.66/24' } }));
    node = await BfdNode.start(lab, 'node');
    node.set([{ key: 'router', peerAddress: '192.0.2.1', multihop: false, minimumTtl: 254, timers: TIMERS }]);
    await node.waitState('router', 'Up');
  });
  after(async () => {
    await node?.stop();
    await bird?.stop();
    await lab?.destroy();
  });

  it('counts each malformed, oversized, unknown, forged and wrong-TTL datagram by reason and drops it', async () => {
    const before = await node.snapshot();
    const ours = before.sessions[0]!.localDiscriminator;
    const oversized = packet({ yourDiscriminator: 12345 }) + '00'.repeat(9000 - 24);
    // On the link, TTL 255: each kind five times.
    const fromLan = await send('attacker', {
      to: '192.0.2.10',
      port: 3784,
      ttl: 255,
      repeat: 5,
      payloads: [
        'aabbcc', // truncated
        '00'.repeat(24), // version 0
        oversized, // 9,000 bytes naming no session
        packet({ state: 'Down' }), // Your Discriminator 0 from a host with no session
        packet({ yourDiscriminator: ours }), // our discriminator, but not from our peer
        packet({ state: 'Up', yourDiscriminator: 0 }), // Up without Your Discriminator
      ],
    });
    assert.equal(fromLan, 30);
    // From our peer's own address, but with TTL 64: what a packet from off the link looks like
    // (GTSM, RFC 5881 §5): charged to the session it names.
    const offLink = await send('router', {
      to: '192.0.2.10',
      port: 3784,
      from: '192.0.2.1',
      ttl: 64,
      repeat: 5,
      payloads: [packet({ yourDiscriminator: ours })],
    });
    assert.equal(offLink, 5);
    const after = await waitFor('every datagram counted', async () => {
      const s = await node.snapshot();
      return total(s.dropped) - total(before.dropped) === 30 ? s : undefined;
    });
    const diff = (a: BfdSnapshot['dropped'], b: BfdSnapshot['dropped']) =>
      Object.fromEntries(
        Object.entries(a)
          .map(([k, v]) => [k, (v ?? 0) - ((b as Record<string, number>)[k] ?? 0)])
          .filter(([, v]) => v !== 0),
      );
    assert.deepEqual(diff(after.dropped, before.dropped), {
      truncated: 5,
      version: 5,
      'unknown-discriminator': 10,
      'no-session': 5,
      'your-discriminator-zero': 5,
    });
    assert.deepEqual(diff(after.sessions[0]!.packetsDropped, before.sessions[0]!.packetsDropped), { ttl: 5 });
    assert.equal(after.sessions.length, 1);
    assert.equal(after.sessions[0]?.state, 'Up');
    assert.equal(node.transitions().filter((t) => t.from === 'Up').length, 0, 'the session never went down');
  });

  it('a flood of 200,000 datagrams creates no session, grows no memory without bound, and the process lives on', async () => {
    const rssKb = () =>
      Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${node.daemon.pid}/status`, 'utf8'))?.[1]);
    const before = await node.snapshot();
    const rssBefore = rssKb();
    const flood = 200_000;
    const [single, multi] = await Promise.all([
      send('attacker', { to: '192.0.2.10', port: 3784, ttl: 255, flood: flood / 2, seed: 7 }),
      send('attacker', { to: '192.0.2.10', port: 4784, ttl: 255, flood: flood / 2, seed: 8 }),
    ]);
    assert.equal(single + multi, flood);
    const after = await node.snapshot();
    const counted = total(after.dropped) - total(before.dropped);
    // Nothing listens on 4784 (no multihop session): those never reach us. Of the single-hop
    // half, what the kernel did not drop for a full socket buffer is counted, each once.
    assert.ok(counted > 0 && counted <= flood / 2, `${counted} counted`);
    assert.equal(after.sessions.length, 1, 'no session from a packet');
    assert.equal(node.daemon.child.exitCode, null, 'alive');
    const grownMb = (rssKb() - rssBefore) / 1024;
    assert.ok(grownMb < 64, `resident memory grew ${grownMb.toFixed(1)} MB under the flood`);
    // The session with BIRD is Up once the flood is over (the flood may have crowded its
    // packets out of the socket buffer meanwhile: that is the flood's right, not a fault).
    await node.waitState('router', 'Up');
    const upAgain = await waitFor('BIRD session Up', async () =>
      (await bird.bfdSessions()).find((s) => s.address === '192.0.2.10' && s.state === 'Up'),
    );
    assert.ok(upAgain);
    process.stdout.write(
      `# flood: ${counted} of ${flood / 2} single-hop datagrams reached the engine and were dropped; ` +
        `session downs during it: ${after.sessions[0]!.downs - before.sessions[0]!.downs}; RSS +${grownMb.toFixed(1)} MB\n`,
    );
  });
});
