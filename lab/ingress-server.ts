/**
 * A tiny HTTP responder run inside a node namespace. As the lab's ingress backends
 * (`--app app-a --host 127.0.0.1`, behind nginx: `ingress-nginx.ts`) it answers every request
 * with `app-a on NODE_NAME`; without `--app` it is the minimal ingress stand-in the end-to-end
 * tests and benchmarks keep, answering the node name. Either way the client sees which node
 * served. `node lab/ingress-server.ts NODE_NAME [PORT] [--app NAME] [--host ADDRESS]` (default
 * port 80, all addresses, IPv4 and IPv6). Prints "listening" once bound.
 */
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { backendAnswer } from './ingress-apps.ts';

const NAME_RE = /^[a-z0-9][a-z0-9.-]*$/;
const usage = (): never => {
  process.stderr.write('usage: ingress-server.ts NODE_NAME [PORT] [--app NAME] [--host ADDRESS]\n');
  process.exit(2);
};
function readArgs() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { app: { type: 'string' }, host: { type: 'string', default: '::' } },
    });
  } catch {
    return usage();
  }
}
const { positionals, values } = readArgs();
const [nodeName, portText = '80', ...extra] = positionals;
const { app, host } = values;
const port = Number(portText);
if (
  !nodeName ||
  !NAME_RE.test(nodeName) ||
  extra.length > 0 ||
  (app !== undefined && !NAME_RE.test(app)) ||
  isIP(host) === 0 ||
  !Number.isInteger(port) ||
  port <= 0 ||
  port > 65535
) {
  usage();
}
const name = app ?? nodeName!;
const body = `${app === undefined ? nodeName : backendAnswer(app, nodeName!)}\n`;

const server = createServer((req, res) => {
  req.resume();
  // Connection: close so every request of a prober is a new connection (a new flow for ECMP).
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
});
server.on('error', (error) => {
  process.stderr.write(`ingress-server ${name}: ${error.message}\n`);
  process.exit(1);
});
// '::' without ipv6Only accepts IPv4 too (as IPv4-mapped addresses).
server.listen({ host, port }, () => process.stdout.write(`listening ${name} ${host} :${port}\n`));
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
