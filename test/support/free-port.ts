import { createServer } from 'node:net';

/**
 * A TCP port on loopback that was free a moment ago, for a program that must be reached before
 * it can report the port it bound (for example while its start-up waits).
 */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
