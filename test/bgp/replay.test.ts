import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  BgpFramer,
  type BgpMessage,
  type CodecContext,
  DEFAULT_CONTEXT,
  decodeMessage,
  encodeMessage,
  endOfRibFamily,
  type OpenMessage,
  shutdownMessage,
  type UpdateMessage,
} from '../../speaker/bgp/codec/index.ts';

// Sessions captured with tcpdump in the lab (test/bgp/capture.ts regenerates them), replayed
// through the decoder: every message of both directions decodes, whatever the chunking.

interface Capture {
  description: string;
  speakerToPeer: string;
  peerToSpeaker: string;
}

function load(name: string): { speaker: Uint8Array; peer: Uint8Array } {
  const c = JSON.parse(readFileSync(new URL(`captures/${name}.json`, import.meta.url), 'utf8')) as Capture;
  // Plain Uint8Arrays (not Buffers), so decoded values compare equal across chunkings.
  const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
  return { speaker: bytes(c.speakerToPeer), peer: bytes(c.peerToSpeaker) };
}

/** Decodes both streams as a session would: plain context until both OPENs are seen. */
function replay(
  streams: { speaker: Uint8Array; peer: Uint8Array },
  chunk = 1 << 20,
): { speaker: BgpMessage[]; peer: BgpMessage[]; context: CodecContext } {
  const raw = { speaker: [] as Uint8Array[], peer: [] as Uint8Array[] };
  for (const side of ['speaker', 'peer'] as const) {
    const framer = new BgpFramer({ fourOctetAs: true, extendedMessage: true });
    const bytes = streams[side];
    for (let at = 0; at < bytes.length; at += chunk) {
      for (const frame of framer.frames(bytes.subarray(at, at + chunk))) raw[side].push(frame.slice());
    }
    assert.equal(framer.pendingBytes, 0, `${side}: no partial message left`);
  }
  const opens = [raw.speaker[0], raw.peer[0]].map((b) => decodeMessage(b!, DEFAULT_CONTEXT) as OpenMessage);
  const has = (o: OpenMessage, kind: string) => o.capabilities.some((c) => c.kind === kind);
  const context: CodecContext = {
    fourOctetAs: opens.every((o) => has(o, 'four-octet-as')),
    extendedMessage: opens.every((o) => has(o, 'extended-message')),
  };
  const decode = (frames: Uint8Array[]) =>
    frames.map((f, i) => decodeMessage(f, i === 0 ? DEFAULT_CONTEXT : context));
  return { speaker: decode(raw.speaker), peer: decode(raw.peer), context };
}

const updates = (ms: BgpMessage[]) => ms.filter((m): m is UpdateMessage => m.type === 'update');

describe('captured sessions replayed through the decoder', () => {
  it('BIRD 2: OPEN capabilities, its UPDATEs and End-of-RIBs, our messages byte-exact, graceful shutdown', () => {
    const streams = load('bird-ebgp');
    const { speaker, peer, context } = replay(streams);
    assert.deepStrictEqual(
      context,
      { fourOctetAs: true, extendedMessage: false },
      'BIRD 2.0.12 offers no extended message',
    );

    const birdOpen = peer[0] as OpenMessage;
    assert.equal(birdOpen.type, 'open');
    assert.equal(birdOpen.myAs, 65000);
    assert.equal(birdOpen.bgpId, '192.0.2.1');
    const kinds = birdOpen.capabilities.map((c) => (c.kind === 'unknown' ? `unknown ${c.code}` : c.kind));
    for (const k of ['multiprotocol', 'route-refresh', 'graceful-restart', 'four-octet-as'])
      assert.ok(kinds.includes(k), k);
    // Enhanced route refresh (70) and long-lived graceful restart (71) are kept raw.
    assert.ok(kinds.includes('unknown 70') && kinds.includes('unknown 71'), kinds.join(','));

    const fromBird = updates(peer);
    assert.ok(fromBird.every((u) => u.errors === undefined));
    const v4 = fromBird.find((u) => u.nlri.includes('203.0.113.0/24'));
    assert.deepStrictEqual(v4?.attributes.asPath, [{ type: 'sequence', asns: [65000] }]);
    assert.equal(v4?.attributes.nextHop, '192.0.2.1');
    const v6 = fromBird.find((u) => u.attributes.mpReach?.nlri.includes('2001:db8:100::80/121'));
    assert.equal(v6?.attributes.mpReach?.nextHops[0], '2001:db8:0:1::1');
    assert.deepStrictEqual(fromBird.map(endOfRibFamily).filter(Boolean), [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ]);

    // What we sent: our encoder reproduces every message byte for byte.
    const ourFrames: Uint8Array[] = [];
    const framer = new BgpFramer({ fourOctetAs: true, extendedMessage: true });
    for (const f of framer.frames(streams.speaker)) ourFrames.push(f.slice());
    speaker.forEach((m, i) => {
      assert.equal(
        Buffer.from(encodeMessage(m, i === 0 ? DEFAULT_CONTEXT : context)).toString('hex'),
        Buffer.from(ourFrames[i]!).toString('hex'),
      );
    });
    const ours = updates(speaker);
    assert.ok(
      ours.some((u) => u.attributes.communities?.includes(0xffff0000)),
      'GRACEFUL_SHUTDOWN re-advertisement',
    );
    const last = speaker.at(-1)!;
    assert.equal(last.type, 'notification');
    assert.equal(shutdownMessage(last as Extract<BgpMessage, { type: 'notification' }>), 'capture done');
  });

  it('GoBGP: its OPEN and UPDATEs decode and survive a round trip', () => {
    const { peer, context } = replay(load('gobgp-ebgp'));
    assert.equal(context.fourOctetAs, true);
    const open = peer[0] as OpenMessage;
    assert.equal(open.myAs, 65000);
    const fromGobgp = updates(peer);
    assert.ok(
      fromGobgp.some(
        (u) => u.nlri.includes('203.0.113.0/24') && u.attributes.communities?.includes(65000 * 65536 + 1),
      ),
    );
    assert.ok(fromGobgp.some((u) => u.attributes.mpReach?.nlri.includes('2001:db8:100::80/121')));
    for (const m of peer) assert.deepStrictEqual(decodeMessage(encodeMessage(m, context), context), m);
  });

  it('decodes the same messages whatever the TCP chunking (every split of the BIRD capture)', () => {
    const streams = load('bird-ebgp');
    const whole = replay(streams);
    for (const chunk of [1, 2, 3, 7, 19, 20, 64, 100])
      assert.deepStrictEqual(replay(streams, chunk), whole, `chunk ${chunk}`);
    for (const side of ['speaker', 'peer'] as const) {
      const bytes = streams[side];
      for (let cut = 1; cut < bytes.length; cut++) {
        const framer = new BgpFramer({ fourOctetAs: true, extendedMessage: true });
        const n = [...framer.frames(bytes.subarray(0, cut)), ...framer.frames(bytes.subarray(cut))].length;
        assert.equal(n, whole[side].length, `${side} cut at ${cut}`);
      }
    }
  });
});
