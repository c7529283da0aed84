import { type MembershipPeer, UdpMembership } from '../../speaker/membership/io/udp-membership.ts';
import { WorkerMembership } from '../../speaker/membership/io/worker-membership.ts';
import { isolationVerdict } from '../../speaker/membership/isolation/split-brain.ts';

// One speaker's membership in its own process: inside a lab namespace for
// netns-partition.test.ts and flood-netns.test.ts, on loopback for worker-loopback.test.ts.
// Prints one JSON line per event, with the split-brain verdict (no API server here:
// unreachable), the dropped datagrams by reason on SIGUSR2, and leaves gracefully on
// SIGTERM as the speaker daemon will. `worker: true` runs it on the speaker's network
// thread, as the daemon does.

interface NodeArgs {
  name: string;
  keyHex: string;
  peers: MembershipPeer[];
  bindAddress?: string;
  port?: number;
  worker?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as NodeArgs;
const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const start = args.worker ? WorkerMembership.start : UdpMembership.start;
const log = (level: string) => (obj: object, msg: string) => print({ event: 'log', level, msg, ...obj });
const membership = await start({
  logger: { info: log('info'), warn: log('warn'), debug: () => {} },
  nodeName: args.name,
  keys: [Buffer.from(args.keyHex, 'hex')],
  peers: args.peers,
  ...(args.bindAddress ? { bindAddress: args.bindAddress } : {}),
  ...(args.port !== undefined ? { port: args.port } : {}),
});
// Started with an IPC channel (fork), the peer list may be replaced at runtime.
process.on('message', (message: { peers: MembershipPeer[] }) => {
  args.peers = message.peers;
  membership.setPeers(message.peers);
});
const report = (alive: readonly string[]) => {
  const others = args.peers.filter((p) => p.name !== args.name).length;
  const verdict = isolationVerdict({ knownPeers: others, alivePeers: alive.length - 1, apiReachable: false });
  print({ event: 'alive', alive, ...verdict });
};
membership.on('settled', report);
membership.on('alive-changed', report);
membership.on('peer-failed', (name) => print({ event: 'peer-failed', name }));
membership.on('peer-left', (name) => print({ event: 'peer-left', name }));
process.once('SIGTERM', () => {
  void membership.leave().then(() => print({ event: 'left' }));
});
process.on('SIGUSR2', () => print({ event: 'rejected', counts: membership.rejected() }));
print({ event: 'ready', port: membership.port });
