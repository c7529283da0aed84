import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logLines } from '../../lab/bgp-speaker.ts';
import type { Lab, LabLink } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { sameBirdInstant } from '../../lab/router.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { tempDir } from '../support/temp-dir.ts';
import { FAST_RETRY, startBgpLan, toRouter, withSpeaker } from './speaker.ts';

// eBGP between `metalbeacon bgp` (AS 65001, 192.0.2.10) and BIRD 2 (AS 65000, 192.0.2.1)
// over one IPv4 session carrying IPv4 and IPv6 unicast, on the lab LAN.
describe('BGP interop with BIRD: eBGP, 2-octet ASNs, IPv4 + IPv6', { timeout: 180_000 }, () => {
  let lab: Lab;
  let bird: Bird;
  let nodeLink: LabLink;
  const dir = tempDir('mb-bgp-');
  const neighbor = {
    name: 'n1',
    localAddress: '192.0.2.1',
    localAs: 65000,
    address: '192.0.2.10',
    as: 65001,
    holdTimeSec: 9,
  };

  before(async () => {
    ({
      lab,
      links: { node: nodeLink },
    } = await startBgpLan('bgpbe'));
    bird = await Bird.start(lab, 'router', '192.0.2.1', [neighbor]);
  });
  after(async () => {
    await bird?.stop();
    await lab?.destroy();
  });

  it('announces IPv4 and IPv6 prefixes with communities; SIGHUP sends only the difference; withdraw', async () => {
    const file = join(dir, 'announce');
    await writeFile(file, '# pool\n198.51.100.1/32\n198.51.100.2/32\n2001:db8:100::/120\n');
    await withSpeaker(
      lab,
      [
        ...toRouter('65001'),
        ...['--announce-file', file, '--community', '65001:100', '--community', 'NO_EXPORT'],
        ...['--large-community', '65001:7:8', '--drain-time', '0', '--metrics-listen', '127.0.0.1:7474'],
      ],
      async (speaker) => {
        await waitFor(
          'routes in BIRD',
          async () => (await bird.count('ipv4')) === 2 && (await bird.count('ipv6')) === 1,
        );
        const v4 = await bird.routes('ipv4');
        assert.match(v4, /198\.51\.100\.1\/32\s+unicast \[n1/);
        assert.match(v4, /BGP\.as_path: 65001\n/);
        assert.match(v4, /BGP\.next_hop: 192\.0\.2\.10\n/);
        assert.match(v4, /BGP\.community: \(65001,100\) \(65535,65281\)/);
        assert.match(v4, /BGP\.large_community: \(65001, 7, 8\)/);
        const v6 = await bird.routes('ipv6');
        assert.match(v6, /2001:db8:100::\/120\s+unicast/);
        // Global next hop plus our link-local one (a shared link, RFC 2545 §3).
        assert.match(v6, /BGP\.next_hop: 2001:db8:0:1::10 fe80::/);
        assert.doesNotMatch(
          v4,
          /local_pref: (?!100)/,
          'eBGP carries no LOCAL_PREF (BIRD shows its default 100)',
        );
        const metrics = (await lab.exec('node', ['curl', '-sf', 'http://127.0.0.1:7474/metrics'])).stdout;
        assert.match(metrics, /metalbeacon_bgp_session_established\{peer="192\.0\.2\.1"\} 1/);
        assert.match(metrics, /metalbeacon_bgp_prefixes_announced\{peer="192\.0\.2\.1"\} 3/);
        assert.match(metrics, /metalbeacon_bgp_connection_attempts_total\{peer="192\.0\.2\.1"\} 1/);
        assert.match(metrics, /metalbeacon_bgp_messages_received_total\{peer="192\.0\.2\.1",type="open"\} 1/);
        const since = /n1\s+BGP\s+\S+\s+up\s+(\S+)/.exec(await bird.birdc(['show', 'protocols']))?.[1];

        // New file: one prefix removed, one added.
        await writeFile(file, '198.51.100.1/32\n198.51.100.3/32\n2001:db8:100::/120\n');
        speaker.child.kill('SIGHUP');
        await waitFor('difference applied', async () => {
          const t = await bird.routes('ipv4');
          return t.includes('198.51.100.3/32') && !t.includes('198.51.100.2/32');
        });
        const info = await bird.protocolInfo('n1');
        assert.match(info, /BGP state:\s+Established/);
        assert.ok(
          sameBirdInstant(
            /n1\s+BGP\s+\S+\s+up\s+(\S+)/.exec(await bird.birdc(['show', 'protocols']))?.[1],
            since,
          ),
          'no session reset in BIRD',
        );
        assert.match(
          (await lab.exec('node', ['curl', '-sf', 'http://127.0.0.1:7474/metrics'])).stdout,
          /metalbeacon_bgp_messages_received_total\{peer="192\.0\.2\.1",type="open"\} 1\n/,
          'no new session on our side',
        );
        // BIRD saw exactly one withdraw and 2 + 1 + 1 announcements for IPv4: no resend of unchanged routes.
        const ipv4Stats = info.split('Channel ipv6')[0]!;
        assert.match(ipv4Stats, /Import updates:\s+3\s/);
        assert.match(ipv4Stats, /Import withdraws:\s+1\s/);

        // Empty file: everything withdrawn.
        await writeFile(file, '');
        speaker.child.kill('SIGHUP');
        await waitFor(
          'all withdrawn',
          async () => (await bird.count('ipv4')) === 0 && (await bird.count('ipv6')) === 0,
        );
      },
    );
  });

  it('answers ROUTE-REFRESH by resending everything; direct eBGP packets carry TTL 1', async () => {
    await withSpeaker(
      lab,
      [
        ...toRouter('65001'),
        ...['--announce', '198.51.100.21/32,198.51.100.22/32', '--keepalive-time', '1', '--drain-time', '0'],
      ],
      async () => {
        await waitFor('routes in BIRD', async () => (await bird.count('ipv4')) === 2);
        const updates = async () =>
          Number(/Import updates:\s+(\d+)/.exec(await bird.protocolInfo('n1'))?.[1]);
        const before = await updates();
        // `reload in` makes BIRD send ROUTE-REFRESH (RFC 2918) for each channel.
        await bird.birdc(['reload', 'in', 'n1']);
        await waitFor('routes resent', async () => (await updates()) === before + 2);
        const dump = await lab.exec(
          'router',
          ['timeout', '5', 'tcpdump', '-i', 'eth0', '-c', '2', '-nv', 'src 192.0.2.10 and tcp port 179'],
          {
            allowFailure: true,
          },
        );
        assert.match(
          dump.stdout,
          /ttl 1,/,
          'RFC 4271 §5.1.3 practice: TTL 1 toward a directly connected eBGP peer',
        );
      },
    );
  });

  it('comes back with the routes after the peer restarts', async () => {
    await withSpeaker(
      lab,
      [...toRouter('65001'), ...['--announce', '198.51.100.5/32', ...FAST_RETRY]],
      async (speaker) => {
        await waitFor('route in BIRD', async () => (await bird.count('ipv4')) === 1);
        await bird.stop();
        bird = await Bird.start(lab, 'router', '192.0.2.1', [neighbor]);
        await waitFor('route back after BIRD restart', async () => (await bird.count('ipv4')) === 1, {
          timeoutMs: 30_000,
        });
        assert.ok(
          logLines(speaker).some((l) => l.msg === 'BGP session down'),
          'the speaker saw the session go down',
        );
      },
    );
  });

  it('a silent peer (link cut) is detected by our hold timer within the hold time', async () => {
    await withSpeaker(
      lab,
      [...toRouter('65001'), ...['--announce', '198.51.100.6/32', '--hold-time', '3', '--drain-time', '0']],
      async (speaker) => {
        try {
          await waitFor('session up', async () => (await bird.protocolState('n1')) === 'Established');
          const cutAt = Date.now();
          await lab.cutLink(nodeLink);
          const expired = await waitFor(
            'hold timer expiry',
            () => logLines(speaker).find((l) => l.msg === 'NOTIFICATION sent' && l.code === 4),
            { timeoutMs: 10_000, intervalMs: 50 },
          );
          const elapsedMs = (expired.time as number) - cutAt;
          // Negotiated hold time min(3, 9) = 3 s; the last KEEPALIVE came at most 1 s before the cut.
          // Up to 1.5 s of slack for a loaded machine (timers, birdc polling); far below the 90 s default.
          assert.ok(elapsedMs <= 4_500, `hold timer fired ${elapsedMs} ms after the cut`);
          assert.ok(elapsedMs >= 1_500, `hold timer fired too early: ${elapsedMs} ms`);
        } finally {
          await lab.restoreLink(nodeLink);
        }
      },
    );
  });

  it('graceful shutdown: GRACEFUL_SHUTDOWN lowers the preference before Cease with the RFC 9003 message', async () => {
    await withSpeaker(
      lab,
      [
        ...toRouter('65001'),
        ...['--announce', '198.51.100.7/32', '--drain-time', '3', '--shutdown-message', 'maintenance window'],
      ],
      async (speaker) => {
        await waitFor('route in BIRD', async () => /198\.51\.100\.7\/32/.test(await bird.routes('ipv4')));
        assert.match(await bird.routes('ipv4'), /BGP\.local_pref: 100/);
        speaker.child.kill('SIGTERM');
        const drained = await waitFor('GRACEFUL_SHUTDOWN seen', async () => {
          const t = await bird.routes('ipv4');
          return /\(65535,0\)/.test(t) && t;
        });
        assert.match(drained, /BGP\.local_pref: 0/, 'the import filter lowered the preference');
        assert.equal(await bird.protocolState('n1'), 'Established', 'still up while draining');
        await waitFor('session closed', async () => (await bird.count('ipv4')) === 0, { timeoutMs: 10_000 });
        assert.match(bird.daemon.output(), /Received: Administrative shutdown: "maintenance window"/);
        assert.equal((await speaker.exited).code, 0);
      },
    );
  });
});
