import * as net from 'node:net';
import { loadNative } from '../../native/index.ts';
import type { TcpLiveness } from './fsm/index.ts';
import type { SocketOptions } from './socket-options.ts';

/** Functions native/tcp-md5.cc adds to the addon. */
interface TcpNative {
  /** A new non-blocking TCP socket (SOCK_CLOEXEC) of the family; returns the fd. */
  tcpSocket(family: 4 | 6): number;
  /** bind(2) to a local address, port 0. */
  tcpBind(fd: number, address: string): void;
  /** setsockopt(TCP_MD5SIG) for a peer; an empty key removes it (RFC 2385). */
  tcpMd5(fd: number, peer: string, key: string): void;
  /** IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6). */
  tcpTtl(fd: number, family: 4 | 6, ttl: number): void;
  /** close(2), for a socket never handed to Node. */
  closeFd(fd: number): void;
}

/** Functions native/tcp-liveness.cc adds to the addon. */
interface LivenessNative {
  /** SO_KEEPALIVE on, TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT, TCP_USER_TIMEOUT. */
  tcpLiveness(fd: number, idleSec: number, intervalSec: number, count: number, userTimeoutMs: number): void;
  /** The same options as getsockopt reads them. */
  tcpLivenessOf(fd: number): TcpLiveness & { keepalive: boolean };
  /** SIOCOUTQ: octets in the send queue not yet acknowledged by the peer. */
  tcpQueuedBytes(fd: number): number;
}

function livenessNative(): LivenessNative {
  const native = loadNative() as unknown as Partial<LivenessNative>;
  if (
    typeof native.tcpLiveness !== 'function' ||
    typeof native.tcpLivenessOf !== 'function' ||
    typeof native.tcpQueuedBytes !== 'function'
  ) {
    throw new Error('the native addon was built without native/tcp-liveness.cc; rebuild it');
  }
  return native as LivenessNative;
}

/** What the kernel holds for a socket's keepalive and user timeout (getsockopt), for checks and tests. */
export function readTcpLiveness(fd: number): TcpLiveness & { keepalive: boolean } {
  return livenessNative().tcpLivenessOf(fd);
}

/**
 * Socket options from the native addon: the socket is made by the addon (MD5 key, TTL and source
 * address set before the SYN), then handed to node:net, which connects it.
 */
export function nativeSocketOptions(): SocketOptions {
  const native = loadNative() as unknown as Partial<TcpNative>;
  if (typeof native.tcpSocket !== 'function') {
    throw new Error('the native addon was built without TCP MD5 support (native/tcp-md5.cc); rebuild it');
  }
  const n = native as TcpNative;
  const live = livenessNative();
  return {
    connect({ family, host, port, localAddress, password, ttl }) {
      const fd = n.tcpSocket(family);
      try {
        if (localAddress) n.tcpBind(fd, localAddress);
        if (password !== undefined) n.tcpMd5(fd, host, password);
        n.tcpTtl(fd, family, ttl);
      } catch (error) {
        n.closeFd(fd);
        throw error;
      }
      const socket = new net.Socket({ fd, readable: true, writable: true });
      socket.connect({ host, port });
      return socket;
    },
    setListenerPassword(fd, peer, password) {
      n.tcpMd5(fd, peer, password ?? '');
    },
    setTtl(fd, family, ttl) {
      n.tcpTtl(fd, family, ttl);
    },
    setLiveness(fd, l) {
      live.tcpLiveness(fd, l.keepaliveIdleSec, l.keepaliveIntervalSec, l.keepaliveCount, l.userTimeoutMs);
    },
    queuedBytes(fd) {
      return live.tcpQueuedBytes(fd);
    },
  };
}
