import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logLines, startSpeaker } from '../../lab/bgp-speaker.ts';
import type { Lab } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  assertBackoffGaps,
  FAST_RETRY,
  notifications,
  startBgpLan,
  toRouter,
  withSpeaker,
} from './speaker.ts';

// iBGP with a 4-octet AS over an IPv6 session, a misconfigured peer AS, and graceful restart.
describe('BGP interop with BIRD: iBGP, 4-octet ASN, IPv6 session, errors, graceful restart', {
  timeout: 180_000,
}, () => {
  let lab: Lab;
  let bird: Bird;

  before(async () => {
    ({ lab } = await startBgpLan('bgpbi'));
    bird = await Bird.start(lab, 'router', '192.0.2.1', [
      {
        name: 'ibgp6',
        localAddress: '2001:db8:0:1::1',
        localAs: 4200000001,
        address: '2001:db8:0:1::10',
        as: 4200000001,
        gracefulRestart: true,
        // A directly connected iBGP neighbor (no IGP in this lab to resolve next hops).
        extra: '  direct;',
      },
      // Expects AS 65001 from 192.0.2.10; the speaker will claim another AS.
      { name: 'wrongas', localAddress: '192.0.2.1', localAs: 65000, address: '192.0.2.10', as: 65001 },
    ]);
  });
  after(async () => {
    await bird?.stop();
    await lab?.destroy();
  });

  it('iBGP over IPv6 with a 4-octet AS: empty AS_PATH, LOCAL_PREF, large communities', async () => {
    await withSpeaker(
      lab,
      [
        ...['--local-as', '4200000001', '--peer', '2001:db8:0:1::1', '--peer-as', '4200000001'],
        ...[
          '--router-id',
          '192.0.2.10',
          '--announce',
          '2001:db8:100::/120,2001:db8:100::80/121',
          '--local-pref',
          '250',
        ],
        ...['--large-community', '4200000001:1:1', '--listen-port', '0', '--drain-time', '0'],
      ],
      async () => {
        await waitFor('routes in BIRD', async () => (await bird.count('ipv6')) === 2);
        const v6 = await bird.routes('ipv6');
        assert.match(v6, /2001:db8:100::\/120\s+unicast \[ibgp6/);
        assert.match(v6, /BGP\.as_path: \n/, 'empty AS_PATH on iBGP');
        assert.match(v6, /BGP\.local_pref: 250/);
        assert.match(v6, /BGP\.large_community: \(4200000001, 1, 1\)/);
        assert.match(v6, /BGP\.next_hop: 2001:db8:0:1::10 fe80::/);
        assert.match(
          await bird.protocolInfo('ibgp6'),
          /Session:\s+internal multihop AS4|Session:\s+internal AS4/,
        );
      },
    );
    await waitFor('withdrawn after stop', async () => (await bird.count('ipv6')) === 0);
  });

  it('a wrong AS gets NOTIFICATION Bad Peer AS and reconnects with a capped backoff', async () => {
    // We claim AS 65099; BIRD expects 65001 and answers OPEN with 2/2 (RFC 4271 §6.2).
    await withSpeaker(
      lab,
      [...toRouter('65099'), ...['--announce', '198.51.100.9/32', '--listen-port', '0', ...FAST_RETRY]],
      async (speaker) => {
        const received = await notifications(speaker, 'NOTIFICATION received', 3);
        assert.ok(received.every((l) => l.code === 2 && l.subcode === 2));
        assert.match(bird.daemon.output(), /wrongas: Error: Bad peer AS: 65099/);
        assertBackoffGaps(logLines(speaker));
        assert.equal(await bird.count('ipv4'), 0);
      },
    );
  });

  it('graceful restart: BIRD keeps our routes across a speaker crash until our End-of-RIB', async () => {
    const args = (announce: string) => [
      ...['--local-as', '4200000001', '--peer', '2001:db8:0:1::1', '--peer-as', '4200000001'],
      ...['--router-id', '192.0.2.10', '--announce', announce, '--graceful-restart-time', '60'],
      ...['--listen-port', '0', '--drain-time', '0'],
    ];
    const first = startSpeaker(lab, 'node', args('2001:db8:100::/120'));
    await waitFor('route in BIRD', async () => (await bird.count('ipv6')) === 1);
    assert.match(await bird.protocolInfo('ibgp6'), /Neighbor capabilities[\s\S]*Graceful restart/);
    // A crash: no NOTIFICATION, the kernel closes the connection.
    first.child.kill('SIGKILL');
    await first.exited;
    await waitFor(
      'BIRD notices the restart',
      async () => (await bird.protocolState('ibgp6')) !== 'Established',
    );
    // The route stays (stale) for the restart time instead of being withdrawn.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await bird.count('ipv6'), 1, 'route kept while we restart');
    assert.match(await bird.routes('ipv6'), /2001:db8:100::\/120/);
    // Back with another prefix only: our End-of-RIB tells BIRD to drop what we did not resend.
    const second = startSpeaker(lab, 'node', args('2001:db8:100::80/121'));
    try {
      await waitFor('session back', async () => (await bird.protocolState('ibgp6')) === 'Established');
      const table = await waitFor('stale route flushed after End-of-RIB', async () => {
        const t = await bird.routes('ipv6');
        return !t.includes('2001:db8:100::/120') && t.includes('2001:db8:100::80/121') && t;
      });
      assert.equal(await bird.count('ipv6'), 1, table);
    } finally {
      await second.stop();
    }
  });
});
