import * as net from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import { plainAddress } from './connections.ts';
import { ttlFor } from './peer-config.ts';
import type { BgpSession } from './session.ts';
import { type SocketOptions, socketFd } from './socket-options.ts';

/**
 * Accepts BGP connections (passive side, RFC 4271 §8.2.1.1) and hands each to the session of
 * its source address; connections from unknown addresses are closed at once.
 */
export class BgpListener {
  private readonly server: net.Server;
  private readonly sessions = new Map<string, BgpSession>();
  private readonly log: Logger;
  private readonly socketOptions: SocketOptions | undefined;

  constructor(options: { logger: Logger; socketOptions?: SocketOptions }) {
    this.log = options.logger;
    this.socketOptions = options.socketOptions;
    this.server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    // Once listening, errors are those of accept(2) (EMFILE under a connection flood, ...): the
    // server keeps listening, so they are logged, never thrown out of the event loop.
    this.server.on('error', (error) => this.log.warn({ err: error }, 'BGP listener error'));
  }

  /** Routes connections from the session's peer address to it. */
  add(session: BgpSession): void {
    this.sessions.set(session.peer, session);
  }

  /** Listens; then sets the MD5 keys of the peers that have a password on the listening socket. */
  async listen(port: number, host?: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, ...(host ? { host } : {}) }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const fd = socketFd(this.server);
    for (const session of this.sessions.values()) {
      if (session.config.password === undefined) continue;
      if (!this.socketOptions || fd === undefined) {
        throw new Error('TCP MD5 on the listener needs the native addon');
      }
      this.socketOptions.setListenerPassword(fd, session.peer, session.config.password);
    }
    this.log.info({ address: this.server.address() }, 'BGP listening');
  }

  /** The port actually bound (for port 0). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private onConnection(socket: net.Socket): void {
    const remote = plainAddress(socket.remoteAddress);
    const session = this.sessions.get(remote);
    if (!session) {
      this.log.warn({ remote }, 'connection from an address that is not a configured peer; closed');
      socket.destroy();
      return;
    }
    const fd = socketFd(socket);
    if (this.socketOptions && fd !== undefined) {
      try {
        this.socketOptions.setTtl(fd, net.isIPv6(remote) ? 6 : 4, ttlFor(session.config));
      } catch (error) {
        this.log.warn({ err: error }, 'cannot set TTL on an accepted connection');
      }
    }
    session.accept(socket);
  }

  /** Stops accepting. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
