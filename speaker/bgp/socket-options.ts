import type { Socket } from 'node:net';

/** Socket options node:net cannot set (TCP MD5 RFC 2385, IP TTL), provided by the native addon. */
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
}
