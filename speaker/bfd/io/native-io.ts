import { performance } from 'node:perf_hooks';
import { loadNative, type NativeAddon } from '../../../native/index.ts';
import { BfdPort, SOURCE_PORT_RANGE } from '../codec/index.ts';
import {
  type BfdEngineIo,
  type BfdReceiver,
  type BfdSender,
  type CheckedSpec,
  destinationPort,
  type OnDatagram,
  SEND_TTL,
} from '../engine/index.ts';

/** Source ports tried before giving up on a session's socket (each taken one is another try). */
const SOURCE_PORT_TRIES = 64;

/** Room for a burst of control packets from every peer while the thread is busy elsewhere. */
const RECEIVE_BUFFER_BYTES = 1024 * 1024;

/** A socket error with the address it concerns, and the errno code kept. */
export class BfdSocketError extends Error {
  readonly code: string | undefined;
  constructor(message: string, cause: unknown) {
    const code = (cause as { code?: string })?.code;
    super(`${message}: ${code ?? (cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BfdSocketError';
    this.code = code;
  }
}

const at = (address: string, port: number) =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * The engine's world on this thread: native UDP sockets (native/udp-socket.cc, for the TTL of
 * RFC 5881 §5 / RFC 5883 §5), the monotonic clock, Node timers and Math.random.
 */
export function nativeBfdIo(native: NativeAddon = loadNative()): BfdEngineIo {
  return {
    openSender(spec: CheckedSpec): { sender: BfdSender; localAddress: string } {
      const span = SOURCE_PORT_RANGE.max - SOURCE_PORT_RANGE.min + 1;
      const to = { address: spec.peerAddress, port: destinationPort(spec) };
      for (let i = 0; i < SOURCE_PORT_TRIES; i++) {
        const port = SOURCE_PORT_RANGE.min + Math.floor(Math.random() * span);
        try {
          const socket = new native.UdpSocket({
            family: spec.family,
            ...(spec.localAddress !== undefined ? { address: spec.localAddress } : {}),
            port,
            ttl: SEND_TTL,
            connect: to,
          });
          return { sender: socket, localAddress: socket.local().address };
        } catch (error) {
          if ((error as { code?: string }).code === 'EADDRINUSE') continue;
          throw new BfdSocketError(`cannot send BFD to ${at(to.address, to.port)}`, error);
        }
      }
      throw new BfdSocketError(
        `cannot send BFD to ${at(to.address, to.port)}`,
        new Error(`no free source port in ${SOURCE_PORT_RANGE.min}-${SOURCE_PORT_RANGE.max}`),
      );
    },
    openReceiver(family, localAddress, multihop, onDatagram: OnDatagram): BfdReceiver {
      const port = multihop ? BfdPort.Multihop : BfdPort.SingleHop;
      try {
        return new native.UdpSocket({
          family,
          address: localAddress,
          port,
          receiveBufferBytes: RECEIVE_BUFFER_BYTES,
          onMessage: (payload, ttl, from) => onDatagram(payload, ttl, from),
        });
      } catch (error) {
        throw new BfdSocketError(`cannot receive BFD on ${at(localAddress, port)}`, error);
      }
    },
    nowMs: () => performance.now(),
    wallMs: () => Date.now(),
    random: () => Math.random(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}
