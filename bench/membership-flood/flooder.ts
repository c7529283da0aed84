// Run inside a lab namespace by bench/membership-flood.ts and test/membership/flood-netns.test.ts:
// a LAN host flooding one node's membership port with junk that looks right — well-formed
// headers, real node names, a current timestamp, made-up incarnations and sequences, MACs
// made with a key that is not the cluster's — from spoofed sources (another node's address
// and the speakers' port, claiming that node or another) and from its own address. Raw
// IPv4/UDP frames through a packet socket, so the source is whatever the frame says.
// Argument: one JSON object (FloodPlan). Prints {"sent", "errors", "perSecond"} at the end.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadNative } from '../../native/index.ts';
import { encodeMessage } from '../../speaker/membership/codec/codec.ts';

/** What to flood, as JSON on the command line. */
export interface FloodPlan {
  readonly interface: string;
  readonly seconds: number;
  readonly perSecond: number;
  /** The flooded node: its MAC on the LAN, its IPv4 address and membership port. */
  readonly targetMac: string;
  readonly targetIp: string;
  readonly port: number;
  /** Our own IPv4 address (the unspoofed share). */
  readonly ownIp: string;
  /** Real nodes other than the target: their addresses are spoofed, their names claimed. */
  readonly nodes: readonly { readonly name: string; readonly ip: string }[];
  /** The target's node name (claimed too: a message "from itself"). */
  readonly targetName: string;
}

const plan = JSON.parse(process.argv[2] ?? '{}') as FloodPlan;
const ifindex = Number(readFileSync(`/sys/class/net/${plan.interface}/ifindex`, 'utf8'));
const ownMac = readFileSync(`/sys/class/net/${plan.interface}/address`, 'utf8').trim();
const { PacketSocket } = loadNative();
const dropAll = Buffer.from([6, 0, 0, 0, 0, 0, 0, 0]); // BPF "ret #0": receive nothing
const socket = new PacketSocket({ ifindex, protocol: 0x0800, filter: dropAll, onFrame: () => {} });

const mac = (text: string) => Buffer.from(text.split(':').map((h) => Number.parseInt(h, 16)));
const ipv4 = (text: string) => Buffer.from(text.split('.').map(Number));

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet/IPv4/UDP frame carrying `payload` (UDP checksum 0: none, allowed for IPv4). */
function frame(sourceIp: string, sourcePort: number, payload: Uint8Array): Buffer {
  const bytes = Buffer.alloc(14 + 20 + 8 + payload.length);
  mac(plan.targetMac).copy(bytes, 0);
  mac(ownMac).copy(bytes, 6);
  bytes.writeUInt16BE(0x0800, 12);
  const ip = bytes.subarray(14, 34);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  ipv4(sourceIp).copy(ip, 12);
  ipv4(plan.targetIp).copy(ip, 16);
  ip.writeUInt16BE(ipv4Checksum(ip), 10);
  bytes.writeUInt16BE(sourcePort, 34);
  bytes.writeUInt16BE(plan.port, 36);
  bytes.writeUInt16BE(8 + payload.length, 38);
  Buffer.from(payload).copy(bytes, 42);
  return bytes;
}

// 4,096 frames, cycled. Shares: half spoofed as a node claiming to be that node (they pass
// the source check: the screen's lanes and budgets are what stops them), a quarter spoofed
// claiming another name, a quarter from our own address and a random port. Incarnations up
// to an hour away from now: half later than any running speaker's (a restart, which the
// screen can only budget), half earlier (replays), whenever the flood starts.
const wrongKey = randomBytes(32);
const names = [...plan.nodes.map((n) => n.name), plan.targetName];
const frames: Buffer[] = [];
const SENT_AT_OFFSET = 42 + 20;
for (let i = 0; i < 4096; i++) {
  const node = plan.nodes[i % plan.nodes.length]!;
  const kind = i % 4;
  const sender = kind < 2 ? node.name : names[(i >> 2) % names.length]!;
  const message = encodeMessage(
    {
      type: i % 17 === 0 ? 'Leave' : 'Heartbeat',
      sender,
      incarnation: BigInt(Date.now() + (i % 8 < 4 ? 1 : -1) * (1 + ((i * 7919) % 3_600_000))),
      sequence: BigInt(1 + ((i * 104_729) % 100_000)),
      sentAtMs: Date.now(),
    },
    wrongKey,
  );
  frames.push(
    kind === 3
      ? frame(plan.ownIp, 10_000 + ((i * 31) % 50_000), message)
      : frame(node.ip, plan.port, message),
  );
}

/** Every frame's sentAtMs to now, so the flood is never dropped as stale. */
function refreshTimestamps(): void {
  const now = BigInt(Date.now());
  for (const f of frames) f.writeBigUInt64BE(now, SENT_AT_OFFSET);
}

const startedAt = performance.now();
const endAt = startedAt + plan.seconds * 1000;
let sent = 0;
let errors = 0;
let lastRefresh = 0;
const burst = () => {
  const now = performance.now();
  if (now - lastRefresh >= 500) {
    refreshTimestamps();
    lastRefresh = now;
  }
  const due = Math.min(
    plan.perSecond * plan.seconds,
    Math.floor(((now - startedAt) * plan.perSecond) / 1000),
  );
  while (sent + errors < due) {
    try {
      socket.send(frames[(sent + errors) % frames.length]!);
      sent++;
    } catch {
      errors++;
    }
  }
  if (now < endAt) setImmediate(burst);
  else {
    socket.close();
    const seconds = (performance.now() - startedAt) / 1000;
    process.stdout.write(`${JSON.stringify({ sent, errors, perSecond: Math.round(sent / seconds) })}\n`);
  }
};
burst();
