import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logLines } from '../../lab/bgp-speaker.ts';
import type { Lab } from '../../lab/netns.ts';
import { Gobgp } from '../../lab/peers/gobgp.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  assertBackoffGaps,
  FAST_RETRY,
  notifications,
  startBgpLan,
  toRouter,
  withSpeaker,
} from './speaker.ts';

// eBGP between `metalbeacon bgp` with a 4-octet AS and GoBGP, checked in GoBGP's own RIB.
describe('BGP interop with GoBGP: eBGP, 4-octet ASN, IPv4 + IPv6', { timeout: 120_000 }, () => {
  let lab: Lab;
  let gobgp: Gobgp;
  const dir = tempDir('mb-bgp-');

  before(async () => {
    ({ lab } = await startBgpLan('bgpgo'));
    gobgp = await Gobgp.start(lab, 'router', {
      as: 65000,
      routerId: '192.0.2.1',
      localAddress: '192.0.2.1',
      neighbors: [{ address: '192.0.2.10', as: 4200000002 }],
    });
  });
  after(async () => {
    await gobgp?.stop();
    await lab?.destroy();
  });

  it('announces with communities and large communities, then withdraws on SIGHUP', async () => {
    const file = join(dir, 'announce');
    await writeFile(file, '2001:db8:100::/120\n2001:db8:100::100/120\n198.51.100.0/25\n');
    // Both sides connect actively: whichever connection survives the collision carries the session.
    await withSpeaker(
      lab,
      [
        ...toRouter('4200000002'),
        ...[
          '--announce-file',
          file,
          '--community',
          '65000:42',
          '--large-community',
          '4200000002:3:4',
          '--med',
          '7',
        ],
        ...['--drain-time', '0'],
      ],
      async (speaker) => {
        const v6 = await waitFor('IPv6 routes in GoBGP', async () => {
          const rib = await gobgp.rib('ipv6');
          return Object.keys(rib).length === 2 && rib;
        });
        const path = v6['2001:db8:100::/120']![0]!;
        const attr = (type: number) =>
          path.attrs.find((a) => a.type === type) as Record<string, unknown> | undefined;
        assert.deepStrictEqual(attr(2)?.as_paths, [{ segment_type: 2, num: 1, asns: [4200000002] }]);
        assert.deepStrictEqual(attr(8)?.communities, [65000 * 65536 + 42]);
        assert.deepStrictEqual(attr(32)?.value, [{ ASN: 4200000002, LocalData1: 3, LocalData2: 4 }]);
        assert.equal(attr(4)?.metric, 7);
        assert.equal(attr(14)?.nexthop, '2001:db8:0:1::10');
        const v4 = await gobgp.rib('ipv4');
        const hop = v4['198.51.100.0/25']![0]!.attrs.find((a) => a.type === 3) as
          | { nexthop?: string }
          | undefined;
        assert.equal(hop?.nexthop, '192.0.2.10');

        await writeFile(file, '2001:db8:100::/120\n');
        speaker.child.kill('SIGHUP');
        await waitFor('withdrawn in GoBGP', async () => {
          const [r6, r4] = [await gobgp.rib('ipv6'), await gobgp.rib('ipv4')];
          return Object.keys(r6).length === 1 && Object.keys(r4).length === 0;
        });
      },
    );
  });

  it('a peer proposing hold time 2 s gets NOTIFICATION 2/6 and a capped backoff', async () => {
    await gobgp.stop();
    gobgp = await Gobgp.start(lab, 'router', {
      as: 65000,
      routerId: '192.0.2.1',
      localAddress: '192.0.2.1',
      neighbors: [{ address: '192.0.2.10', as: 4200000002, holdTimeSec: 2, passive: true }],
    });
    await withSpeaker(
      lab,
      [...toRouter('4200000002'), ...['--announce', '198.51.100.0/25', '--listen-port', '0', ...FAST_RETRY]],
      async (speaker) => {
        const sent = await notifications(speaker, 'NOTIFICATION sent', 3);
        assert.ok(
          sent.every((l) => l.code === 2 && l.subcode === 6),
          JSON.stringify(sent),
        );
        assertBackoffGaps(logLines(speaker));
        assert.ok(!logLines(speaker).some((l) => l.to === 'Established'));
      },
    );
  });
});
