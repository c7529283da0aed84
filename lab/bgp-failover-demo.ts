/**
 * The BGP half of `metalbeacon lab`'s failover demo: a node's cable pulled under a fresh HTTP GET
 * every 20 ms from the client through the router to the ECMP VIP's /app-a (nginx on the node). Only the flows the router
 * hashes to that node fail, until BIRD drops its next hop: with the lab's BFDProfile (lab-bfd,
 * 300 ms x3) within BFD's detection time, where without BFD it would be BIRD's hold time (9 s).
 */
import { analyzeEcmpFailover } from './failover.ts';
import { appAUrl } from './ingress-report.ts';
import { startProbe } from './probe.ts';
import { LAB_BFD, type Topology } from './topology.ts';

/** Polls until `check` gives a value; undefined after `timeoutMs` (the demo's, abortable). */
export type Poll = <T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs?: number,
) => Promise<T | undefined>;

/** Milliseconds the new flows hashed to the lost node failed, or 'failed'. */
export async function bgpFailoverDemo(
  t: Topology,
  ip: string | undefined,
  step: (line: string) => void,
  poll: Poll,
): Promise<number | 'failed'> {
  if (!ip) return 'failed';
  // Through the router to a node's nginx, which proxies to app-a.
  const url = appAUrl(ip);
  const victim = t.nodes.at(-1)!.name;
  const bfd = `BFD ${LAB_BFD.minTxMs} ms x${LAB_BFD.multiplier}`;
  // Every node a next hop, every BFD session Up (the L2 demo's node may still be coming back).
  const steady = await poll(async () => {
    const [route] = await t.kernelRoutes('IPv4', `${ip}/32`);
    if (route?.nextHops.length !== t.nodes.length) return undefined;
    const up = (await t.birdBfdSessions()).filter((s) => s.state === 'Up');
    return up.length === t.nodes.length ? route : undefined;
  }, 60_000);
  if (!steady) {
    step(`BGP failover: ${ip} is not routed to all ${t.nodes.length} nodes with BFD Up within 60 s  FAILED`);
    return 'failed';
  }
  step(
    `BGP failover: ${ip} via ${steady.nextHops.join(', ')} (ECMP, ${bfd} with each node); the client requests ${url} every 20 ms; pulling ${victim}'s cable (LAN and API)`,
  );
  const probe = await startProbe({ namespace: t.lab.ns('client'), url });
  try {
    await probe.waitForGood(25, { timeoutMs: 10_000 });
    const cutAt = Date.now();
    await t.cutLink(victim);
    await t.isolateFromApi(victim);
    await probe.waitForGood(50, { from: cutAt, timeoutMs: 30_000 });
    const outcome = analyzeEcmpFailover(probe.records(), cutAt);
    if (!outcome) {
      step('BGP failover: new flows not all served again within 30 s  FAILED');
      return 'failed';
    }
    const [route] = await t.kernelRoutes('IPv4', `${ip}/32`);
    const ms = Math.round(outcome.outageMs);
    step(
      `BGP failover: flows hashed to ${victim} failed for ${ms} ms (${outcome.failedRequests} request(s)); the router now sends ${ip} via ${route?.nextHops.join(', ') ?? 'nothing'} (without BFD: until the 9 s hold time)`,
    );
    return ms;
  } catch (error) {
    step(`BGP failover: ${(error as Error).message}  FAILED`);
    return 'failed';
  } finally {
    await probe.stop();
    await t.restoreLink(victim);
    await t.reconnectApi(victim);
    step(`restored ${victim}'s link`);
  }
}
