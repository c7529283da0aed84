/**
 * Reproduces a known speaker defect (not a test; exits 1 while the defect is there):
 * `node test/e2e/repro-short-link-flap.ts [RUNS]` as root.
 *
 * The owner's link is cut for 0.7 s — shorter than the speaker's 2 s interface rescan — and
 * restored. Meanwhile another node took over (gratuitous ARP: the client follows it). When the
 * owner rejoins the membership, the interim owner withdraws, but the owner, which never noticed
 * its link was down, sends no gratuitous ARP: the client keeps sending to the interim owner,
 * which no longer announces. If that node then fails, nobody tells the client to move and it
 * stays unserved until its ARP entry expires (tens of seconds).
 *
 * Each run prints which node serves the client 6 s after the restore and which node answers
 * ARP, measured in that order (an arping reply itself updates the client's ARP entry).
 */

import { announcers, startE2eTopology, urlOf } from './harness.ts';
import { analyzeProbe, startProbe } from './probe.ts';

const runs = Number(process.argv[2] ?? '6');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const topo = await startE2eTopology('e2eflap');
let mismatches = 0;
try {
  topo.createIngressService('web', { pool: 'lab-l2' });
  const [vip] = (await topo.waitForServiceIps('web')) as [string];
  const probe = await startProbe({ namespace: topo.lab.ns('client'), url: urlOf(vip) });
  try {
    for (let run = 1; run <= runs; run++) {
      await probe.waitForGood(25, { from: Date.now(), timeoutMs: 60_000 });
      const [owner] = await announcers(topo, vip);
      if (owner === undefined) throw new Error(`nobody answers ARP for ${vip}`);
      await topo.cutLink(owner);
      await sleep(700);
      await topo.restoreLink(owner);
      await sleep(6_000);
      const from = Date.now();
      await sleep(1_000);
      const served = Object.keys(analyzeProbe(probe.records(), { from }).answeredBy);
      const arp = await announcers(topo, vip);
      const bad = served.length !== 1 || served[0] !== arp[0] || arp.length !== 1;
      if (bad) mismatches++;
      process.stdout.write(
        `run ${run}: ${owner}'s link cut 0.7 s; 6 s after the restore the client is served by ${served.join('+') || 'nobody'}, ARP answered by ${arp.join('+') || 'nobody'}${bad ? '  <- MISMATCH' : ''}\n`,
      );
    }
  } finally {
    await probe.stop();
  }
} finally {
  await topo.stop();
}
process.stdout.write(`${mismatches} of ${runs} runs left the client on a node that does not announce\n`);
process.exit(mismatches > 0 ? 1 : 0);
