import type { Socket } from 'node:net';
import type { TcpLiveness } from './fsm/index.ts';

/**
 * Socket options node:net cannot set (TCP MD5 RFC 2385, IP TTL, TCP keepalive timers and
 * TCP_USER_TIMEOUT), provided by the native addon.
 */
export interface SocketOptions {
  /** A connecting socket with MD5 key and TTL set before the SYN. */
  connect(options: {
    family: 4 | 6;
    host: string;
    port: number;
    localAddress?: string;
    password?: string;
    ttl: number;
  }): Socket;
  /** Sets (or with undefined clears) the MD5 key for a peer on a listening socket's fd. */
  setListenerPassword(fd: number, peerAddress: string, password: string | undefined): void;
  /** Sets the TTL / hop limit on an accepted socket's fd. */
  setTtl(fd: number, family: 4 | 6, ttl: number): void;
  /** Turns TCP keepalive on with these timers and sets TCP_USER_TIMEOUT (tcp(7)). */
  setLiveness(fd: number, liveness: TcpLiveness): void;
  /** Octets in the socket's send queue the peer has not acknowledged yet (SIOCOUTQ). */
  queuedBytes(fd: number): number;
}

/** The file descriptor under a node:net socket or server, when it has one. */
export function socketFd(handleOwner: object): number | undefined {
  const fd = (handleOwner as { _handle?: { fd?: number } })._handle?.fd;
  return fd !== undefined && fd >= 0 ? fd : undefined;
}
