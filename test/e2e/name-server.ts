/**
 * A tiny HTTP server answering every request with a fixed name (a node's ingress stand-in for
 * the probe's own tests and the keepalived anchor): `node name-server.ts NAME [PORT]`.
 * Listens on [::] (both families); prints `listening` once bound.
 */
import { createServer } from 'node:http';

const [name, portArg = '80'] = process.argv.slice(2);
if (name === undefined) {
  process.stderr.write('usage: name-server.ts NAME [PORT]\n');
  process.exit(2);
}
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`${name}\n`);
});
server.listen({ host: '::', port: Number(portArg), ipv6Only: false }, () => {
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
