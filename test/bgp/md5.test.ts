import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logLines } from '../../lab/bgp-speaker.ts';
import type { Lab } from '../../lab/netns.ts';
import { Bird } from '../../lab/peers/bird.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startLan } from '../support/lan.ts';
import { tempDir } from '../support/temp-dir.ts';
import { toRouter, withSpeaker } from './speaker.ts';

// TCP MD5 signatures (RFC 2385) set by native/tcp-md5.cc, against BIRD: BIRD connects to us
// (our listener carries the key) and we connect to BIRD (our socket carries it before the SYN).
describe('BGP TCP MD5 with BIRD', { timeout: 120_000 }, () => {
  let lab: Lab;
  let bird: Bird;
  // Passwords go in files (--password-file): argv is readable by every local user.
  const dir = tempDir('mb-bgp-md5-');
  const passwordFile = (password: string): string => {
    const file = join(dir, password);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    return file;
  };

  before(async () => {
    ({ lab } = await startLan('bgpmd5', {
      router: { ipv4: '192.0.2.1/24', router: true },
      node: { ipv4: '192.0.2.10/24' },
    }));
    bird = await Bird.start(lab, 'router', '192.0.2.1', [
      {
        name: 'signed',
        localAddress: '192.0.2.1',
        localAs: 65000,
        address: '192.0.2.10',
        as: 65001,
        password: 'right-key',
      },
    ]);
  });
  after(async () => {
    await bird?.stop();
    await lab?.destroy();
  });

  for (const passive of [false, true]) {
    it(`the right password establishes (${passive ? 'BIRD connects to our listener' : 'we connect'})`, async () => {
      await withSpeaker(
        lab,
        [
          ...toRouter('65001'),
          ...[
            '--password-file',
            passwordFile('right-key'),
            '--announce',
            '198.51.100.11/32',
            '--drain-time',
            '0',
          ],
          ...(passive ? ['--passive'] : ['--listen-port', '0']),
        ],
        async () => {
          await waitFor('route in BIRD', async () => (await bird.count('ipv4')) === 1, { timeoutMs: 20_000 });
          assert.equal(await bird.protocolState('signed'), 'Established');
        },
      );
      await waitFor('withdrawn', async () => (await bird.count('ipv4')) === 0);
    });
  }

  it('a wrong password never establishes', async () => {
    await withSpeaker(
      lab,
      [
        ...toRouter('65001'),
        ...[
          '--password-file',
          passwordFile('wrong-key'),
          '--announce',
          '198.51.100.12/32',
          '--connect-time',
          '1',
        ],
        ...['--connect-retry', '1', '--connect-retry-max', '1', '--drain-time', '0'],
      ],
      async (speaker) => {
        await new Promise((resolve) => setTimeout(resolve, 6000));
        const states = logLines(speaker).map((l) => l.to);
        assert.ok(states.includes('Connect'), 'it tried');
        assert.ok(
          !states.includes('OpenSent') && !states.includes('Established'),
          `states: ${states.join(',')}`,
        );
        assert.notEqual(await bird.protocolState('signed'), 'Established');
        assert.equal(await bird.count('ipv4'), 0);
      },
    );
  });
});
