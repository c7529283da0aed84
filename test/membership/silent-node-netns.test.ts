import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTopology, type Topology } from '../../lab/topology.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';

// The membership LAN path (ADR 0009) starts with a broadcast Claim from a speaker that lost a
// peer on the membership port. A speaker that announced nothing had no packet socket: it neither
// heard that Claim nor could send its own, so it and the peer it was cut from counted each other
// dead for as long as the port stayed blocked (the chaos run of 2026-12-07, seed 3: node-2, with
// no L2 IP, and node-1 for the whole 8 s of two blocks; in one a Service created meanwhile was
// announced by both). Here three nodes, one L2 IP: its owner is cut off the membership port
// (both directions, on the owner); the two others announce nothing. Each must hear the others,
// the owner on the LAN path: three alive members everywhere, the owner with two peers heard only
// on the LAN path and the others with one. Before the fix the node ranked last for the IP (which
// never takes it over, and so never opens a socket) stayed at two alive members.

const LAB_MANIFESTS = fileURLToPath(new URL('../../lab/manifests', import.meta.url));
const TABLE = 'mbsilent';

describe('membership port blocked on the L2 owner; the other nodes announce nothing', {
  timeout: 300_000,
}, () => {
  let topo: Topology;
  let ip = '';

  before(async () => {
    topo = await startTopology({ prefix: 'mbsil', nodes: 3, manifests: [LAB_MANIFESTS] });
    await topo.startController();
    await Promise.all(
      topo.nodes.map((n) =>
        topo.startSpeaker(n.name, ['--metrics-listen', '127.0.0.1:7473'], { timeoutMs: 60_000 }),
      ),
    );
    topo.createIngressService('silent-a', { pool: 'lab-l2', families: ['IPv4'] });
    [ip = ''] = await topo.waitForServiceIps('silent-a');
  });
  after(async () => {
    await topo?.stop();
  });

  const announced = (node: string): boolean =>
    topo
      .node(node)
      .speaker!.output()
      .split('\n')
      .some((line) => line.includes('"msg":"L2: announcing"') && line.includes(`"ip":"${ip}"`));
  const scrape = async (node: string): Promise<string> =>
    (await topo.lab.exec(node, ['curl', '-sf', 'http://127.0.0.1:7473/metrics'])).stdout;
  const gauge = (text: string, name: string): number | undefined => {
    const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
    return value === undefined ? undefined : Number(value);
  };

  test('every node hears every other, the owner on the LAN path', async (t) => {
    const names = topo.nodes.map((n) => n.name);
    const owner = await waitFor(`a node announcing ${ip}`, () => names.find(announced));
    const silent = names.filter((n) => n !== owner);
    assert.deepEqual(silent.filter(announced), [], `only ${owner} announces ${ip}`);
    const blockedAt = Date.now();
    try {
      await topo.lab.exec(owner, [
        'nft',
        `add table inet ${TABLE}; ` +
          `add chain inet ${TABLE} input { type filter hook input priority 0 ; } ; ` +
          `add chain inet ${TABLE} output { type filter hook output priority 0 ; } ; ` +
          `add rule inet ${TABLE} input udp dport 7951 drop ; ` +
          `add rule inet ${TABLE} output udp dport 7951 drop`,
      ]);
      const expected = new Map([owner, ...silent].map((n) => [n, n === owner ? 2 : 1]));
      let last = '';
      try {
        await waitFor(
          'three alive members on every node, the owner heard only on the LAN path',
          async () => {
            const seen = await Promise.all(
              names.map(async (n) => {
                const text = await scrape(n);
                return [
                  n,
                  gauge(text, 'metalbeacon_membership_alive_members'),
                  gauge(text, 'metalbeacon_membership_lan_only_peers'),
                ] as const;
              }),
            );
            last = seen.map(([n, alive, lanOnly]) => `${n}: ${alive} alive, ${lanOnly} LAN-only`).join('; ');
            return seen.every(([n, alive, lanOnly]) => alive === 3 && lanOnly === expected.get(n))
              ? true
              : undefined;
          },
          { timeoutMs: 15_000, intervalMs: 100 },
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}; last seen: ${last}`);
      }
      t.diagnostic(
        `${owner} blocked; all three alive to each other again after ${Date.now() - blockedAt} ms`,
      );
    } finally {
      await topo.lab.exec(owner, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    }
  });
});
