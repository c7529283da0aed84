import { createSocket } from 'node:dgram';

// Sends UDP datagrams for the hostile-input tests of test/bfd, from inside a lab namespace, with
// node:dgram (not our addon): argv[2] is JSON
//   { to, port, from?, ttl, payloads: [hex, ...], repeat }   each payload `repeat` times
//   { to, port, from?, ttl, flood: N, seed }                  N random 0-64-byte datagrams, half
//                                                             of them starting as BFD version 1
// and prints {"sent": N} when done.

interface Args {
  to: string;
  port: number;
  from?: string;
  ttl: number;
  payloads?: string[];
  repeat?: number;
  flood?: number;
  seed?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const socket = createSocket(args.to.includes(':') ? 'udp6' : 'udp4');
await new Promise<void>((resolve) => socket.bind({ address: args.from, port: 0 }, resolve));
socket.setTTL(args.ttl);
const send = (bytes: Uint8Array) =>
  new Promise<void>((resolve) => socket.send(bytes, args.port, args.to, () => resolve()));

let sent = 0;
for (const hex of args.payloads ?? []) {
  for (let i = 0; i < (args.repeat ?? 1); i++) {
    await send(Buffer.from(hex, 'hex'));
    sent++;
  }
}
let seed = args.seed ?? 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
for (let i = 0; i < (args.flood ?? 0); i++) {
  const bytes = new Uint8Array(Math.floor(random() * 65));
  for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
  if (i % 2 === 0 && bytes.length > 0) bytes[0] = 0x20 | (bytes[0]! & 0x1f);
  // Every 256th send waits for the kernel, so the queue of unsent datagrams stays small.
  if (i % 256 === 255) await send(bytes);
  else socket.send(bytes, args.port, args.to);
  sent++;
}
socket.close();
process.stdout.write(`${JSON.stringify({ sent })}\n`);
