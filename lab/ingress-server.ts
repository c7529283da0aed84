/**
 * The lab's stand-in for an ingress controller: an HTTP server on every node answering each
 * request with the node's name, so a client sees which node served it. Run inside a node
 * namespace: `node lab/ingress-server.ts NODE_NAME [PORT]` (default port 80, all
 * addresses, IPv4 and IPv6). Prints "listening" once bound.
 */
import { createServer } from 'node:http';

const [nodeName, portText = '80'] = process.argv.slice(2);
const port = Number(portText);
if (
  !nodeName ||
  !/^[a-z0-9][a-z0-9.-]*$/.test(nodeName) ||
  !Number.isInteger(port) ||
  port <= 0 ||
  port > 65535
) {
  process.stderr.write('usage: ingress-server.ts NODE_NAME [PORT]\n');
  process.exit(2);
}

const server = createServer((req, res) => {
  req.resume();
  const body = `${nodeName}\n`;
  // Connection: close so every request of a prober is a new connection (a new flow for ECMP).
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
});
server.on('error', (error) => {
  process.stderr.write(`ingress-server ${nodeName}: ${error.message}\n`);
  process.exit(1);
});
// '::' without ipv6Only accepts IPv4 too (as IPv4-mapped addresses).
server.listen({ host: '::', port }, () => process.stdout.write(`listening ${nodeName} :${port}\n`));
const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
