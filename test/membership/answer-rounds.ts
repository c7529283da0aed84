import { fileURLToPath } from 'node:url';
import type { LabDaemon } from '../../lab/netns.ts';
import { LAB_ADDRESSES, type Topology } from '../../lab/topology.ts';

const PROBER = fileURLToPath(new URL('./fixtures/answer-prober.ts', import.meta.url));

/** One round of the answer prober (fixtures/answer-prober.ts): IP -> MACs that answered. */
export interface Round {
  round: number;
  at: number;
  answers: Record<string, string[]>;
}

/** Starts the answer prober in the lab's client, asking for every IP of `ips` each `intervalMs`. */
export function spawnAnswerProber(topo: Topology, ips: readonly string[], intervalMs: number): LabDaemon {
  const { client } = LAB_ADDRESSES;
  return topo.lab.spawn('client', [
    process.execPath,
    PROBER,
    JSON.stringify({ interface: 'eth0', intervalMs, ipv4: client.ipv4, ipv6: client.ipv6, ips }),
  ]);
}

/** The prober's rounds so far that began at `from` (ms since it started) or later. */
export function answerRounds(prober: LabDaemon, from = 0): Round[] {
  return prober
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"round"'))
    .map((l) => JSON.parse(l) as Round)
    .filter((r) => r.at >= from);
}
