import { existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Host side of the path from a node namespace to the embedded API server: a unix socket
 * (one per node) whose connections are piped to the server's TCP port on the host's loopback.
 * Inside the node namespace `socat TCP-LISTEN:6443 ... UNIX-CONNECT:<socket>` completes it.
 * Closing it (and every connection through it) is how a node loses the API server; listening
 * again restores it.
 */
export class ApiForwarder {
  readonly socketPath: string;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  constructor(socketPath: string, target: { host: string; port: number }) {
    this.socketPath = socketPath;
    this.#target = target;
  }

  /** True while the socket accepts connections. */
  get open(): boolean {
    return this.#server !== undefined;
  }

  /** Starts accepting on the unix socket (a stale socket file is replaced). */
  async listen(): Promise<void> {
    if (this.#server) return;
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    const server = createServer((downstream) => {
      const upstream = connect(this.#target.port, this.#target.host);
      this.#sockets.add(downstream).add(upstream);
      const done = (): void => {
        downstream.destroy();
        upstream.destroy();
        this.#sockets.delete(downstream);
        this.#sockets.delete(upstream);
      };
      downstream.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      downstream.pipe(upstream);
      upstream.pipe(downstream);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  /** Stops accepting and cuts every open connection (watches included) at once. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
  }
}
