import { createServer } from 'node:net';

/**
 * A TCP port on `host` (a loopback address) that was free a moment ago, for a program that
 * must be reached before it can report the port it bound (for example while its start-up waits).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
