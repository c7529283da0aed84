import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Lab, waitForOutput } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startLan } from '../support/lan.ts';
import { answerRounds } from './answer-rounds.ts';

const PROBER = fileURLToPath(new URL('./fixtures/answer-prober.ts', import.meta.url));
const RESPONDER = fileURLToPath(new URL('./fixtures/slow-arp-responder.ts', import.meta.url));
/** Answered only by the slow responder on the server, 20 ms late. */
const VIP = '192.0.2.50';

// The answer prober of the membership tests closes a round when the next one starts. After a
// stall of its own process (a loaded machine) the next round's timer runs before the socket's
// I/O, and the answers that came in time were counted in the next round: the round looked
// unanswered, which cut-netns read as nobody answering an IP. Here the kernel of a LAN host
// answers for its own addresses, a responder answers for one more 20 ms late, and the prober
// stands still right after it asked.
describe('answer prober', { timeout: 60_000 }, () => {
  let lab: Lab;
  const server = { ipv4: '192.0.2.11', ipv6: '2001:db8:0:1::11' };
  before(async () => {
    ({ lab } = await startLan('mbprob', {
      client: { ipv4: '192.0.2.101/24', ipv6: '2001:db8:0:1::101/64' },
      server: { ipv4: `${server.ipv4}/24`, ipv6: `${server.ipv6}/64` },
    }));
    const responder = lab.spawn('server', [
      process.execPath,
      RESPONDER,
      JSON.stringify({ interface: 'eth0', ip: VIP, delayMs: 20 }),
    ]);
    await waitForOutput(responder, /listening/);
  });
  after(() => lab?.destroy());

  it('counts the answers that came during its own stall in the round that asked', async () => {
    const stallAfterRound = 10;
    const prober = lab.spawn('client', [
      process.execPath,
      PROBER,
      JSON.stringify({
        interface: 'eth0',
        intervalMs: 100,
        ipv4: '192.0.2.101',
        ipv6: '2001:db8:0:1::101',
        ips: [server.ipv4, server.ipv6, VIP],
        stallAfterRound,
        stallMs: 300,
      }),
    ]);
    try {
      const rounds = await waitFor('15 rounds', () => {
        const list = answerRounds(prober);
        return list.length >= 15 ? list : undefined;
      });
      const unanswered = rounds
        .slice(2)
        .filter((r) => [server.ipv4, server.ipv6, VIP].some((ip) => (r.answers[ip] ?? []).length !== 1));
      assert.deepEqual(unanswered, [], `the stall was after round ${stallAfterRound}`);
    } finally {
      await prober.stop();
    }
  });
});
