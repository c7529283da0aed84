import * as net from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import { plainAddress } from './connections.ts';
import { ttlFor } from './peer-config.ts';
import type { BgpSession } from './session.ts';
import { type SocketOptions, socketFd } from './socket-options.ts';

/**
 * Accepts BGP connections (passive side, RFC 4271 §8.2.1.1) and hands each to the session of
 * its source address; connections from unknown addresses are closed at once. A session's owner
 * removes it when it stops it ({@link remove}); a stopped session left here is dropped at the
 * next connection from its address, which is refused as from an unknown peer.
 */
export class BgpListener {
  private readonly server: net.Server;
  /** peer address -> the session its connections go to */
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

  /**
   * Stops routing connections to the session (its peer was removed or changed): connections from
   * its address are refused from now on, and the MD5 key it set on the listening socket goes
   * with it. A newer session added since for the same address stays.
   */
  remove(session: BgpSession): void {
    if (this.sessions.get(session.peer) !== session) return;
    this.sessions.delete(session.peer);
    if (session.config.password === undefined) return;
    const fd = socketFd(this.server);
    if (!this.socketOptions || fd === undefined) return;
    try {
      this.socketOptions.setListenerPassword(fd, session.peer, undefined);
    } catch (error) {
      this.log.warn({ err: error, peer: session.peer }, 'cannot clear the TCP MD5 key of a removed peer');
    }
  }

  /** The peer addresses whose connections are accepted, sorted. */
  get peerAddresses(): string[] {
    return [...this.sessions.keys()].sort();
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
    let session = this.sessions.get(remote);
    if (session?.stopped) {
      this.sessions.delete(remote);
      session = undefined;
    }
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
