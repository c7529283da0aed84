import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FloodPlan } from '../../bench/membership-flood/flooder.ts';
import type { Lab, LabDaemon, LabLink } from '../../lab/netns.ts';
import { waitFor } from '../../shared/runtime/wait-for.ts';
import { startLan } from '../support/lan.ts';

// Three speakers' membership on a LAN (network namespaces, each on its speaker network
// thread as the daemon runs it) while a fourth host floods one of them with junk that looks
// right: real node names, current timestamps, wrong MACs, half of it from the other nodes'
// spoofed addresses and port. No speaker may take a peer for dead (a false failover); the
// flooded one drops the flood before any cryptography (its counters by reason) and, within
// a second, has the kernel sample the flooding sources (its warning names them). The
// benchmark (npm run bench:membership-flood) runs the full cluster at 100,000 datagrams a
// second for 30 s; this is the shorter check.

const script = fileURLToPath(new URL('./membership-node.ts', import.meta.url));
const FLOODER = fileURLToPath(new URL('../../bench/membership-flood/flooder.ts', import.meta.url));
const names = ['n1', 'n2', 'n3'] as const;
const keyHex = randomBytes(32).toString('hex');
const address = (i: number) => `192.0.2.${21 + i}`;
const peers = names.map((name, i) => ({ name, address: address(i) }));
const SECONDS = 8;
const RATE = 30_000;

let lab: Lab;
let links: Record<string, LabLink>;
const daemons = new Map<string, LabDaemon>();

before(async () => {
  const members = Object.fromEntries(names.map((name, i) => [name, { ipv4: `${address(i)}/24` }]));
  ({ lab, links } = await startLan('mbflood', { ...members, attacker: { ipv4: '192.0.2.66/24' } }));
  for (const name of names) {
    const args = { name, keyHex, peers, bindAddress: '0.0.0.0', worker: true };
    daemons.set(name, lab.spawn(name, [process.execPath, script, JSON.stringify(args)]));
  }
});
after(() => lab.destroy());

interface Line {
  event: string;
  alive?: string[];
  name?: string;
  counts?: Record<string, number>;
  msg?: string;
  source?: string;
}

const lines = (name: string): Line[] =>
  daemons
    .get(name)!
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

/** n1's dropped datagrams as its network thread last reported them (asked with SIGUSR2). */
async function reportedRejects(name: string): Promise<Record<string, number>> {
  const seen = lines(name).filter((l) => l.event === 'rejected').length;
  daemons.get(name)!.child.kill('SIGUSR2');
  return waitFor(
    `${name} reports its dropped datagrams`,
    () => lines(name).filter((l) => l.event === 'rejected')[seen]?.counts,
  );
}

async function sleepThen<T>(ms: number, then: () => Promise<T>): Promise<T> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return then();
}

test(`a ${RATE}/s flood of well-formed junk for ${SECONDS} s: no false failover, the flood dropped unverified`, async () => {
  for (const name of names) {
    await waitFor(`${name} sees all three`, () =>
      lines(name).some((l) => l.event === 'alive' && l.alive?.length === 3) ? true : undefined,
    );
  }
  const plan: FloodPlan = {
    interface: 'eth0',
    seconds: SECONDS,
    perSecond: RATE,
    targetMac: links.n1!.mac,
    targetIp: address(0),
    port: 7951,
    ownIp: '192.0.2.66',
    nodes: peers.slice(1).map((p) => ({ name: p.name, ip: p.address })),
    targetName: 'n1',
  };
  const flooder = lab.spawn('attacker', [process.execPath, FLOODER, JSON.stringify(plan)]);
  const floodWarnings = () =>
    lines('n1').filter((l) => l.event === 'log' && l.msg?.startsWith('membership: flood;'));
  await waitFor('n1 samples the three flooding sources', () =>
    floodWarnings().length >= 3 ? true : undefined,
  );
  // Once each share follows its source's rate (a flush or two), the thread reads 16-64 a
  // second of each flooding source, whatever the flood's rate: counted over 3 s of it (the
  // counts cross once a second, so the window is 2-4 s).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const [start, end] = [await reportedRejects('n1'), await sleepThen(3000, () => reportedRejects('n1'))];
  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const window = `${JSON.stringify(start)} then ${JSON.stringify(end)}`;
  assert.ok(sum(end) - sum(start) < 3 * 64 * 4, `at most 64 a second per flooding source: ${window}`);
  assert.ok(
    (end['over-budget'] ?? 0) > (start['over-budget'] ?? 0),
    `enough of the flood reaches the screen to keep its budgeted lane full: ${window}`,
  );
  await flooder.exited;
  const flood = JSON.parse(flooder.output().trim().split('\n').at(-1) ?? '{}') as { sent?: number };
  // The counts cross from the network thread once a second.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const counts = await reportedRejects('n1');
  const total = sum(counts);
  const floods = floodWarnings();
  const detail = `flood sent ${flood.sent}; n1 dropped ${JSON.stringify(counts)} on its thread; flooding sources ${floods.map((l) => l.source).join(', ')}`;
  assert.ok((flood.sent ?? 0) >= RATE * SECONDS * 0.5, detail);
  // The screen dropped what reached the thread, before any HMAC; the kernel, told which
  // sources flood (within a second), dropped most of the rest before the thread read it: at
  // most one in 64 (and the first ~500 of each source, before the guard engaged).
  assert.ok(total > 3 * 500 && total < (flood.sent ?? 0) / 64 + 3 * 2000, `the sample counted: ${detail}`);
  assert.deepEqual(
    floods.map((l) => l.source).sort(),
    ['192.0.2.22', '192.0.2.23', 'addresses of no peer'],
    detail,
  );
  // Only what the budgeted lane let through was verified: 10 a second per spoofed peer, and
  // a burst of 10 each.
  assert.ok((counts['bad-mac'] ?? 0) <= 2 * (10 + 10 * (SECONDS + 2)), `few HMACs: ${detail}`);
  assert.ok((counts['over-budget'] ?? 0) > 0 && (counts['unknown-source'] ?? 0) > 0, detail);
  for (const name of names) {
    assert.deepEqual(
      lines(name).filter((l) => l.event === 'peer-failed'),
      [],
      `${name} took nobody for dead; ${detail}`,
    );
    const last = lines(name)
      .filter((l) => l.event === 'alive')
      .at(-1);
    assert.deepEqual(last?.alive, ['n1', 'n2', 'n3'], name);
  }
});
