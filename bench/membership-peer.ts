import { performance } from 'node:perf_hooks';
import { UdpMembership } from '../speaker/membership/io/udp-membership.ts';
import { WorkerMembership } from '../speaker/membership/io/worker-membership.ts';
import { startStalls } from './membership-stalls.ts';

// One speaker of the membership benchmark, in its own process so that killing it is a real
// crash and its stalls are its own. Talks to the benchmark over IPC.

interface PeerArgs {
  name: string;
  keyHex: string;
  settings: Record<string, number>;
  stallMaxMs: number;
  thread: 'main' | 'worker';
}

const args = JSON.parse(process.argv[2] ?? '{}') as PeerArgs;
const send = (message: object) => process.send?.(message);
const start = args.thread === 'worker' ? WorkerMembership.start : UdpMembership.start;
const membership = await start({
  nodeName: args.name,
  keys: [Buffer.from(args.keyHex, 'hex')],
  bindAddress: '127.0.0.1',
  port: 0,
  peers: [],
  ...args.settings,
});
membership.on('peer-failed', (name) => send({ type: 'failed', name, atMs: performance.now() }));
const stopStalls = args.stallMaxMs > 0 ? startStalls(args.stallMaxMs) : () => {};
process.on('message', (message: { type: string; peers?: never }) => {
  if (message.type === 'peers' && message.peers) membership.setPeers(message.peers);
  if (message.type === 'stop') {
    stopStalls();
    void membership.close().then(() => process.disconnect());
  }
});
send({ type: 'port', port: membership.port });
