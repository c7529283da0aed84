/**
 * The client side of {@link startHeldRequests}, run as one process inside the client namespace
 * (`ip netns exec CLIENT node lab/held-requests-child.ts HOST PORT COUNT`): opens COUNT TCP
 * connections to HOST:PORT (each its own source port, so the router hashes each on its own),
 * sends on each an HTTP GET without the blank line that ends its header, then one more header
 * line every TRICKLE_MS (a slow client: its flow carries packets all the time, so a change of
 * path at any moment reaches it), and prints `{"ready":true,"open":N}`. A line `finish` on
 * stdin completes every request; one JSON line per connection follows,
 * `{"port":…,"ok":true,"status":200,"body":"node-2"}` or `{"port":…,"ok":false,"error":"ECONNRESET"}`,
 * then the process exits 0. Requests in flight for as long as the caller wants: they show
 * what happens to established flows when the path to the server changes meanwhile.
 */
import { connect, isIP, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [hostArg, portArg, countArg] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
if (
  !hostArg ||
  isIP(hostArg) === 0 ||
  !Number.isInteger(port) ||
  !Number.isInteger(count) ||
  count < 1 ||
  count > 1000
) {
  process.stderr.write('usage: held-requests-child.ts IP PORT COUNT (1-1000)\n');
  process.exit(2);
}
const host = hostArg;
/** How long a completed request may take to be answered. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Interval of the header lines that keep each flow busy (short against a route change's effect). */
const TRICKLE_MS = 200;

interface Held {
  socket: Socket;
  port: number;
  reply: string;
  error?: string;
  ended: Promise<void>;
}

function open(): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const held: Held = { socket, port: 0, reply: '', ended: Promise.resolve() };
    held.ended = new Promise((done) => socket.on('close', () => done()));
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (held.reply.length < 4096) held.reply += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      held.error ??= error.code ?? error.message;
      reject(error);
    });
    socket.once('connect', () => {
      held.port = socket.localPort ?? 0;
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host.includes(':') ? `[${host}]` : host}\r\nConnection: close\r\n`,
      );
      resolve(held);
    });
  });
}

function result(h: Held): Record<string, unknown> {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(h.reply)?.[1] ?? 0);
  const body = h.reply.split('\r\n\r\n').slice(1).join('\r\n\r\n').trim().slice(0, 64);
  const ok = h.error === undefined && status >= 200 && status < 300;
  return {
    port: h.port,
    ok,
    ...(status > 0 ? { status, body } : {}),
    ...(ok ? {} : { error: h.error ?? 'no answer' }),
  };
}

const held = await Promise.all(Array.from({ length: count }, () => open()));
let lines = 0;
const trickle = setInterval(() => {
  lines++;
  for (const h of held) if (!h.socket.destroyed) h.socket.write(`X-Held: ${lines}\r\n`);
}, TRICKLE_MS);
process.stdout.write(`${JSON.stringify({ ready: true, open: held.length })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'finish') continue;
  clearInterval(trickle);
  for (const h of held) if (!h.socket.destroyed) h.socket.write('\r\n');
  await Promise.all(
    held.map(async (h) => {
      const timer = setTimeout(() => {
        h.error ??= 'timeout';
        h.socket.destroy();
      }, ANSWER_TIMEOUT_MS);
      await h.ended;
      clearTimeout(timer);
    }),
  );
  for (const h of held) process.stdout.write(`${JSON.stringify(result(h))}\n`);
  process.exit(0);
}
