/**
 * One HTTP request kept in flight for as long as the test wants, run in a namespace:
 * `ip netns exec NS node test/support/slow-request-child.ts HOST PORT`. It connects, sends the
 * request line, then one header line every 100 ms (each a TCP segment to whichever node the
 * client's ARP/NDP cache points at now), and ends the request when a line arrives on stdin.
 * If the VIP moved to another node meanwhile, that node knows nothing of the connection and
 * resets it. Writes `{"connected":true}` once connected, then one line with the outcome:
 * `{"ok":true,"body":"node-2","headers":N}` or `{"ok":false,"error":"ECONNRESET","headers":N}`.
 */
import { connect } from 'node:net';

const [host, portText = '80'] = process.argv.slice(2);
if (!host) {
  process.stderr.write('usage: slow-request-child.ts HOST [PORT]\n');
  process.exit(2);
}
const emit = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);
let headers = 0;
let response = '';
let done = false;
const finish = (record: Record<string, unknown>) => {
  if (done) return;
  done = true;
  clearInterval(timer);
  emit({ ...record, headers });
  process.exit(0);
};
const socket = connect({ host, port: Number(portText) }, () => {
  emit({ connected: true });
  socket.write(`GET / HTTP/1.1\r\nHost: ${host.includes(':') ? `[${host}]` : host}\r\n`);
});
const timer = setInterval(() => {
  if (!socket.connecting && !done) socket.write(`X-Slow-${headers++}: ${Date.now()}\r\n`);
}, 100);
socket.setEncoding('utf8');
socket.on('data', (chunk: string) => {
  response += chunk;
});
socket.on('end', () => {
  const ok = /^HTTP\/1\.1 200/.test(response);
  finish({ ok, body: response.split('\r\n\r\n')[1]?.trim() ?? '', ...(ok ? {} : { error: 'bad response' }) });
});
socket.on('error', (error: NodeJS.ErrnoException) =>
  finish({ ok: false, error: error.code ?? error.message }),
);
process.stdin.once('data', () => {
  if (!done) socket.write('\r\n');
});
