import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeMessage, encodeMessage } from '../speaker/membership/codec/codec.ts';
import { type Membership, UdpMembership } from '../speaker/membership/io/udp-membership.ts';
import { WorkerMembership } from '../speaker/membership/io/worker-membership.ts';
import { MembershipDefaults, MembershipFastest } from '../speaker/membership/protocol/config.ts';
import { startStalls } from './membership-stalls.ts';

// Failure detection of the membership protocol on loopback: an observer (this process,
// its main thread stalled like a GC-heavy speaker), a steady peer (its own process, also
// stalled) and a victim process that is killed with SIGKILL and restarted, again and
// again. Figures: kill -> the observer's main thread learns "peer failed" (median, p99,
// max), and false alarms (any failure reported of a process that was not killed). Thread
// "main" runs membership on the stalled main thread, "worker" in a Worker beside it.
//
//   npm run bench:membership -- [--runs 20] [--stall-max-ms 150] [--busy-core] [--thread main|worker|both]

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'stall-max-ms': { type: 'string', default: '150' },
    'busy-core': { type: 'boolean', default: false },
    thread: { type: 'string', default: 'both' },
  },
});
const runs = Number(values.runs);
const stallMaxMs = Number(values['stall-max-ms']);
type Thread = 'main' | 'worker';
const threads: Thread[] = values.thread === 'both' ? ['main', 'worker'] : [values.thread as Thread];
const keyHex = randomBytes(32).toString('hex');
const peerScript = fileURLToPath(new URL('./membership-peer.ts', import.meta.url));
const children = new Set<ChildProcess>();

interface Profile {
  readonly name: string;
  readonly settings: { heartbeatIntervalMs: number; deadAfterMs: number; tickMs: number };
}
const profiles: Profile[] = [
  { name: 'default', settings: { ...pick(MembershipDefaults) } },
  { name: 'fastest', settings: { ...MembershipFastest } },
];

function pick(d: typeof MembershipDefaults) {
  return { heartbeatIntervalMs: d.heartbeatIntervalMs, deadAfterMs: d.deadAfterMs, tickMs: d.tickMs };
}

async function startPeer(name: string, profile: Profile, thread: Thread, stalls: number) {
  const args = { name, keyHex, settings: profile.settings, stallMaxMs: stalls, thread };
  const child = fork(peerScript, [JSON.stringify(args)], {
    execPath: process.execPath,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const failures: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m: { type: string; port?: number; name?: string }) => {
      if (m.type === 'port') resolve(m.port!);
      if (m.type === 'failed') failures.push(m.name!);
    });
    child.once('exit', (code) => reject(new Error(`peer ${name} exited with ${code} before it was ready`)));
  });
  return { child, port, failures };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

async function measure(profile: Profile, thread: Thread) {
  const start = thread === 'worker' ? WorkerMembership.start : UdpMembership.start;
  const observer: Membership = await start({
    nodeName: 'observer',
    keys: [Buffer.from(keyHex, 'hex')],
    bindAddress: '127.0.0.1',
    port: 0,
    peers: [],
    ...profile.settings,
  });
  const steady = await startPeer('steady', profile, thread, stallMaxMs);
  const falseAlarms: string[] = [];
  let victimName = '';
  observer.on('peer-failed', (name) => {
    if (name !== victimName) falseAlarms.push(`observer saw ${name} fail`);
  });
  const stopStalls = startStalls(stallMaxMs);
  const latencies: number[] = [];
  for (let run = 0; run < runs; run++) {
    victimName = `victim-${run}`;
    const victim = await startPeer(victimName, profile, thread, 0);
    const peers = [
      { name: 'observer', address: '127.0.0.1', port: observer.port },
      { name: 'steady', address: '127.0.0.1', port: steady.port },
      { name: victimName, address: '127.0.0.1', port: victim.port },
    ];
    observer.setPeers(peers);
    steady.child.send({ type: 'peers', peers });
    victim.child.send({ type: 'peers', peers });
    const name = victimName;
    if (!observer.alive().includes(name)) {
      await new Promise<void>((resolve) => {
        const onJoin = (joined: string) => {
          if (joined !== name) return;
          observer.off('peer-joined', onJoin);
          resolve();
        };
        observer.on('peer-joined', onJoin);
      });
    }
    // Let a few heartbeats flow, so the kill falls anywhere in the heartbeat cycle.
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 100));
    const detected = new Promise<number>((resolve) => {
      const onFail = (failed: string) => {
        if (failed !== name) return;
        observer.off('peer-failed', onFail);
        resolve(performance.now());
      };
      observer.on('peer-failed', onFail);
    });
    const exited = once(victim.child, 'exit');
    const killedAt = performance.now();
    victim.child.kill('SIGKILL');
    latencies.push((await detected) - killedAt);
    await exited;
  }
  stopStalls();
  falseAlarms.push(
    ...steady.failures.filter((n) => !n.startsWith('victim-')).map((n) => `steady saw ${n} fail`),
  );
  const steadyExited = once(steady.child, 'exit');
  steady.child.send({ type: 'stop' });
  await steadyExited;
  await observer.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { sorted, falseAlarms };
}

/** CPU per received heartbeat (decode + HMAC verify), and what that costs a speaker among 50. */
function codecCost(): string {
  const key = Buffer.from(keyHex, 'hex');
  const bytes = encodeMessage(
    {
      type: 'Heartbeat',
      sender: 'worker-node-17.example',
      incarnation: 1n,
      sequence: 1n,
      sentAtMs: Date.now(),
    },
    key,
  );
  const n = 50_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) decodeMessage(bytes, [key]);
  const perMessageUs = ((performance.now() - start) * 1000) / n;
  const perSecond = 49 * (1000 / MembershipDefaults.heartbeatIntervalMs);
  return (
    `codec: ${bytes.length}-byte heartbeat, decode + verify ${perMessageUs.toFixed(1)} µs; a speaker among 50 ` +
    `receives ${perSecond}/s = ${((perSecond * perMessageUs) / 10_000).toFixed(1)}% of a core at default settings`
  );
}

async function main() {
  console.log(codecCost());
  let spinner: ChildProcess | undefined;
  if (values['busy-core']) {
    spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    children.add(spinner);
    spinner.once('exit', () => children.delete(spinner!));
  }
  console.log(
    `membership failure detection on loopback: ${runs} SIGKILLs per profile; observer and steady peer stalled ` +
      `(0–30 ms often, up to ${stallMaxMs} ms one time in ten)${spinner ? '; one extra process spinning on a core' : ''}`,
  );
  console.log(
    'profile   thread  hb/dead/tick ms   min    median  p99    max    median/deadAfter  false alarms',
  );
  for (const profile of profiles) {
    for (const thread of threads) {
      const { sorted, falseAlarms } = await measure(profile, thread);
      report(profile, thread, sorted, falseAlarms);
    }
  }
}

function report(profile: Profile, thread: Thread, sorted: readonly number[], falseAlarms: readonly string[]) {
  const s = profile.settings;
  const f = (n: number) => n.toFixed(0).padStart(5);
  console.log(
    `${profile.name.padEnd(9)} ${thread.padEnd(7)} ${`${s.heartbeatIntervalMs}/${s.deadAfterMs}/${s.tickMs}`.padEnd(17)} ` +
      `${f(sorted[0]!)}  ${f(quantile(sorted, 0.5))}   ${f(quantile(sorted, 0.99))}  ${f(sorted.at(-1)!)}  ` +
      `${(quantile(sorted, 0.5) / s.deadAfterMs).toFixed(2).padStart(16)}  ${falseAlarms.length}` +
      (falseAlarms.length ? ` (${falseAlarms.join(', ')})` : ''),
  );
}

/** Kills what we started, by PID, and waits for each exit (nobody else reaps them). */
async function cleanup(): Promise<void> {
  const exits = [...children].map((child) => {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (!exited) child.kill('SIGKILL');
    return exited ? Promise.resolve() : once(child, 'exit');
  });
  await Promise.all(exits);
}
process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});
try {
  await main();
} finally {
  await cleanup();
}
