import { fileURLToPath } from 'node:url';
import type { LabDaemon } from '../../lab/netns.ts';
import { LAB_ADDRESSES, type Topology } from '../../lab/topology.ts';
import { DEFAULT_RATE_LIMIT, type RateLimit } from '../../speaker/l2/responder/rate-limiter.ts';

const PROBER = fileURLToPath(new URL('./fixtures/answer-prober.ts', import.meta.url));

/** One round of the answer prober (fixtures/answer-prober.ts): IP -> MACs that answered. */
export interface Round {
  round: number;
  at: number;
  answers: Record<string, string[]>;
}

/** The share of a requester's answer budget the prober may use, at most. */
const BUDGET_SHARE = 0.6;

/**
 * The prober's round for `ipCount` IPs: the shortest, in steps of 10 ms and at least 50 ms, at
 * which one node answering every IP (after a failover, or both nodes while a cut is not healed)
 * uses at most 60 % of the speaker's answer rate per requester (`limit`, the responder's
 * default): the prober asks from one MAC, and a round faster than the budget refills makes the
 * responder drop answers (rate-limited, by design), which the tests would read as nobody
 * answering. The rest of the budget absorbs rounds that arrive bunched.
 */
export function roundMsFor(ipCount: number, limit: RateLimit = DEFAULT_RATE_LIMIT): number {
  const shortestMs = (ipCount * 1000) / (limit.perSecond * BUDGET_SHARE);
  return Math.max(50, Math.ceil(shortestMs / 10 - 1e-9) * 10);
}

/** Speakers that left an ARP/NDP request unanswered because the requester was over its rate limit. */
export function rateLimitedSpeakers(topo: Topology): string[] {
  return topo.nodes
    .filter((n) => /requester over its rate limit/.test(n.speaker?.output() ?? ''))
    .map((n) => n.name);
}

/**
 * Starts the answer prober in the lab's client, asking for every IP of `ips` each `intervalMs`
 * (default {@link roundMsFor}: within the responder's budget for the prober's MAC).
 */
export function spawnAnswerProber(
  topo: Topology,
  ips: readonly string[],
  intervalMs: number = roundMsFor(ips.length),
): LabDaemon {
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
