import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LabDaemon } from '../../lab/netns.ts';
import { startTopology, type Topology } from '../../lab/topology.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import {
  answerRounds,
  type Round,
  rateLimitedSpeakers,
  roundMsFor,
  spawnAnswerProber,
} from './answer-rounds.ts';

// Membership cut, LAN intact: two speakers (the lab topology with two nodes, the controller,
// dual-stack L2 Services) stop hearing each other on the membership port — an nftables rule
// in one node drops UDP 7951 both ways — while the LAN still carries everything else. Before
// the LAN path each took the other for dead and both answered ARP/NDP for every IP for as
// long as the rule stayed. A prober in the client asks for every IP every round (100 ms, within
// the responder's answer budget for one requester: roundMsFor) and records
// who answers: from some point on exactly one node answers each IP, the same one as before
// the cut, and the speakers say whom they hear only on the LAN path. A real cable cut with
// the rule still there still fails over. The time until exactly one answers is printed
// (diagnostic); the tests assert what happens, not how fast.

const LAB_MANIFESTS = fileURLToPath(new URL('../../lab/manifests', import.meta.url));
const SERVICES = ['cut-a', 'cut-b', 'cut-c'];

describe('membership port blocked between two nodes on one LAN', { timeout: 300_000 }, () => {
  let topo: Topology;
  let ips: string[] = [];
  let prober: LabDaemon;
  /** IP -> the MAC of the node answering for it before any cut. */
  const owners = new Map<string, string>();

  before(async () => {
    topo = await startTopology({ prefix: 'mbcut', nodes: 2, manifests: [LAB_MANIFESTS] });
    await topo.startController();
    await Promise.all(
      topo.nodes.map((n) =>
        topo.startSpeaker(n.name, ['--metrics-listen', '127.0.0.1:7473'], { timeoutMs: 60_000 }),
      ),
    );
    for (const name of SERVICES)
      topo.createIngressService(name, { pool: 'lab-dual', families: ['IPv4', 'IPv6'] });
    for (const name of SERVICES) ips.push(...(await topo.waitForServiceIps(name)));
    ips = ips.sort();
    // Five of the six IPs rank to one node: at 50 ms rounds it answered 100 a second, exactly its
    // budget for the prober's MAC, and the rounds that came bunched went partly unanswered.
    prober = spawnAnswerProber(topo, ips, roundMs());
    const steady = await waitFor('every IP answered by exactly one node, twenty rounds in a row', () => {
      const last = rounds().slice(-20);
      if (last.length < 20 || !last.every((r) => ips.every((ip) => r.answers[ip]?.length === 1)))
        return undefined;
      return last.at(-1);
    });
    for (const ip of ips) owners.set(ip, steady.answers[ip]![0]!);
    const macs = new Set(owners.values());
    assert.equal(macs.size, 2, `both nodes own some of ${ips.join(', ')}: ${JSON.stringify([...owners])}`);
  });
  after(async () => {
    await topo?.stop();
  });

  const roundMs = () => roundMsFor(ips.length);
  const rounds = (from = 0): Round[] => answerRounds(prober, from);
  /** The prober's questions were all answered or not for the product's reasons, never the rate limit's. */
  const assertNotRateLimited = () =>
    assert.deepEqual(
      rateLimitedSpeakers(topo),
      [],
      'speakers rate-limited the prober: its rounds are too fast',
    );
  const proberNow = () => rounds().at(-1)?.at ?? 0;

  async function block(node: string, on: boolean): Promise<void> {
    if (!on) {
      await topo.lab.exec(node, ['nft', 'delete', 'table', 'inet', 'mbcut']);
      return;
    }
    await topo.lab.exec(node, [
      'nft',
      'add table inet mbcut; ' +
        'add chain inet mbcut input { type filter hook input priority 0 ; } ; ' +
        'add chain inet mbcut output { type filter hook output priority 0 ; } ; ' +
        'add rule inet mbcut input udp dport 7951 drop ; ' +
        'add rule inet mbcut output udp dport 7951 drop',
    ]);
  }

  /** Rounds (from `from` on) in which an IP was answered by other than exactly its owner. */
  /** The IPs a round saw answered by other than exactly their owner (nobody, two, the other node). */
  const misanswered = (r: Round) =>
    ips.filter((ip) => r.answers[ip]?.length !== 1 || r.answers[ip]![0] !== owners.get(ip));
  const wrong = (list: readonly Round[]) => list.filter((r) => misanswered(r).length > 0);

  /** Who answered in the rounds given: "+ms ip:node+node" (or "nobody"), per IP not answered by exactly its owner. */
  function timeline(list: readonly Round[], from: number): string {
    const nameOf = (mac: string) => topo.nodes.find((n) => n.link.mac === mac)?.name ?? mac;
    return list
      .map((r) => {
        const odd = misanswered(r).map((ip) => `${ip}:${r.answers[ip]?.map(nameOf).join('+') || 'nobody'}`);
        return `+${r.at - from} ${odd.join(' ')}`;
      })
      .join('; ');
  }

  async function scrape(node: string): Promise<string> {
    return (await topo.lab.exec(node, ['curl', '-sf', 'http://127.0.0.1:7473/metrics'])).stdout;
  }

  test('blocked: exactly one node answers each IP, the same as before, and each says it hears the other only on the LAN', async (t) => {
    const cutAt = proberNow();
    await block('node-1', true);
    // Long past the dead time and the takeover bursts (2 s): from here on every round counts.
    await waitFor('8 s of rounds after the cut', () => (proberNow() - cutAt > 8000 ? true : undefined), {
      timeoutMs: 30_000,
    });
    const after = rounds(cutAt);
    const bad = wrong(after);
    const lastBad = bad.at(-1)?.at;
    t.diagnostic(
      `rounds after the cut: ${after.length}; with other than exactly the owner answering: ${bad.length}` +
        (lastBad === undefined ? '' : `, the last ${lastBad - cutAt} ms after the rule went in`) +
        `; ${timeline(bad, cutAt)}`,
    );
    const settled = after.filter((r) => r.at - cutAt > 3000);
    assert.ok(settled.length > (0.4 * 5000) / roundMs(), `${settled.length} rounds`);
    assert.deepEqual(wrong(settled), [], 'exactly the owner answers every IP once the dust settled');
    assertNotRateLimited();
    for (const node of topo.nodes) {
      const log = node.speaker!.output();
      assert.match(log, /heard only on the LAN path/, node.name);
      // Alive to each other, and heard only on the LAN path: the port is really blocked.
      const metrics = await scrape(node.name);
      assert.match(metrics, /^metalbeacon_membership_lan_only_peers 1$/m, node.name);
      assert.match(metrics, /^metalbeacon_membership_alive_members 2$/m, node.name);
    }
  });

  test('unblocked: still exactly one, and the LAN path goes quiet', async (t) => {
    const openAt = proberNow();
    await block('node-1', false);
    await waitFor('no peer heard only on the LAN path', async () => {
      const texts = await Promise.all(topo.nodes.map((n) => scrape(n.name)));
      return texts.every((text) => /^metalbeacon_membership_lan_only_peers 0$/m.test(text))
        ? true
        : undefined;
    });
    const from = proberNow();
    await waitFor('2 s of rounds', () => (proberNow() - from > 2000 ? true : undefined));
    t.diagnostic(`unblocked at +0; quiet at +${from - openAt}; ${timeline(wrong(rounds(openAt)), openAt)}`);
    assert.deepEqual(wrong(rounds(from)), []);
    assertNotRateLimited();
  });

  test('blocked again, then a real cable cut: the other node takes every IP over', async (t) => {
    await block('node-1', true);
    const from = proberNow();
    await waitFor('settled on the LAN path', () => (proberNow() - from > 3000 ? true : undefined));
    assert.deepEqual(wrong(rounds(from + 2000)), []);
    const survivor = topo.node('node-2');
    await topo.cutLink('node-1');
    try {
      const cutAt = proberNow();
      const taken = await waitFor('node-2 answering every IP alone', () => {
        const last = rounds(cutAt).slice(-10);
        return last.length === 10 &&
          last.every((r) => ips.every((ip) => r.answers[ip]?.join() === survivor.link.mac))
          ? last[0]
          : undefined;
      });
      const first = rounds(cutAt).find((r) => ips.every((ip) => r.answers[ip]?.join() === survivor.link.mac));
      assert.ok(taken && first);
      t.diagnostic(`cable cut with the port blocked: node-2 answered every IP ${first.at - cutAt} ms later`);
      assertNotRateLimited();
    } finally {
      await topo.restoreLink('node-1');
      await block('node-1', false);
    }
  });
});
