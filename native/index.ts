import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * TypeScript face of the N-API addon built from binding.gyp (target `metalbeacon_native`,
 * sources in native/*.cc). `npm ci` builds it; `npm run build:native` rebuilds it.
 * Code that needs native functions calls {@link loadNative} (cheap after the first call:
 * Node caches the module per thread, and it loads in worker_threads Workers too).
 */

/** Options of an AF_PACKET socket (packet(7)). */
export interface PacketSocketOptions {
  /** Interface index to bind to. */
  ifindex: number;
  /** EtherType to bind to in host order (0x0003 ETH_P_ALL, 0x0806 ARP, ...). */
  protocol: number;
  /** Classic BPF program (8 bytes per instruction), attached before bind. */
  filter?: Buffer;
  /** SO_RCVBUF in bytes (best effort). */
  receiveBufferBytes?: number;
  /** Kernel receive timestamps (SO_TIMESTAMPNS): onFrame then gets µs since the epoch, -1 if missing. */
  timestamps?: boolean;
  /** Called on the opening thread's event loop with each received frame (a copy). */
  onFrame: (frame: Buffer, timestampUs?: number) => void;
}

/** An open AF_PACKET socket, bound to one interface; our own outgoing frames are not received. */
export interface PacketSocket {
  /** Sends one complete Ethernet frame; returns the bytes sent. Throws a system error (with `code`). */
  send(frame: Uint8Array): number;
  /** Joins a link-layer multicast group (PACKET_ADD_MEMBERSHIP, PACKET_MR_MULTICAST). */
  addMembership(mac: Buffer): void;
  /** Leaves a link-layer multicast group. */
  dropMembership(mac: Buffer): void;
  /** Replaces the BPF program on the live socket. */
  setFilter(filter: Buffer): void;
  /** Kernel receive counters since the last call (PACKET_STATISTICS resets on read). */
  statistics(): { packets: number; drops: number };
  /** Stops receiving and closes the socket; idempotent. */
  close(): void;
}

/** Options of a UDP socket with TTL control (BFD, RFC 5881 / RFC 5883). */
export interface UdpSocketOptions {
  family: 4 | 6;
  /** Local address to bind to; default any. */
  address?: string;
  /** Local port; 0 lets the kernel choose. Throws `EADDRINUSE` when taken. */
  port: number;
  /** Connects to this peer, so that the route fixes the source address (read it with `local()`). */
  connect?: { address: string; port: number };
  /** Unicast TTL / hop limit of sent packets (IP_TTL / IPV6_UNICAST_HOPS), 1..255. */
  ttl?: number;
  /** SO_RCVBUF in bytes (best effort; receiving sockets only). */
  receiveBufferBytes?: number;
  /**
   * Receives datagrams (only a socket given this reads anything), on the opening thread's event
   * loop: the payload (a copy, cut to 2,048 bytes), its TTL / hop limit (IP_RECVTTL /
   * IPV6_RECVHOPLIMIT; -1 if the kernel gave none) and the sender.
   */
  onMessage?: (payload: Buffer, ttl: number, address: string, port: number) => void;
}

/** An open UDP socket (IPv6 ones are IPv6-only). */
export interface UdpSocket {
  /** Sends one datagram (to the connected peer when no address is given); throws a system error (with `code`). */
  send(bytes: Uint8Array, address?: string, port?: number): number;
  /** The bound address and port. */
  local(): { address: string; port: number };
  /** Stops receiving and closes the socket; idempotent. */
  close(): void;
}

/** What the addon exports. BGP's TCP-MD5 support adds its functions here. */
export interface NativeAddon {
  PacketSocket: new (options: PacketSocketOptions) => PacketSocket;
  UdpSocket: new (options: UdpSocketOptions) => UdpSocket;
  /** malloc_trim(0): hands the free pages of every malloc arena back to the kernel; true when some went. */
  trimMalloc(): boolean;
  /** SO_ATTACH_FILTER on the socket `fd` (replaces its program). Throws a system error (with `code`). */
  attachSocketFilter(fd: number, program: Buffer): void;
  /**
   * Asks the scheduler for a shorter slice for the calling thread (sched_setattr, Linux 6.12+;
   * older kernels ignore it). Throws a system error (with `code`) when refused.
   */
  setThreadSlice(microseconds: number): void;
  /**
   * Runs the calling thread under SCHED_FIFO at `priority` (1-99), reset on fork: threads it
   * creates do not inherit it. Throws a system error (with `code`: EPERM without
   * CAP_SYS_NICE or an RLIMIT_RTPRIO, or where the cgroup has no real-time budget).
   */
  setThreadRealtime(priority: number): void;
  /** Measures the loop iterations of the thread that makes it (native/loop-meter.cc). */
  LoopMeter: new () => LoopMeter;
}

/** The CPU time of a thread's loop iterations: from one wait for I/O to the next. */
export interface LoopMeter {
  /**
   * Iterations since start (all, and those over 0.5, 1 and 2 ms), and the longest since the
   * previous take(), in microseconds. The network thread sends it on as its LoopWork.
   */
  take(): { iterations: number; longestUs: number; over500us: number; over1ms: number; over2ms: number };
  /** Stops measuring; idempotent. */
  close(): void;
}

/** The addon could not be loaded (not built, or built for another platform). */
export class NativeAddonError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'NativeAddonError';
    this.hint = hint;
  }
}

/** Path of the built addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../build/Release/metalbeacon_native.node', import.meta.url),
);

/** Loads the addon; throws {@link NativeAddonError} with a hint when it is missing or broken. */
export function loadNative(): NativeAddon {
  if (process.platform !== 'linux') {
    throw new NativeAddonError(
      `the native addon needs Linux (this is ${process.platform})`,
      'packet sockets (L2 mode) exist only on Linux',
    );
  }
  if (!existsSync(NATIVE_ADDON_PATH)) {
    throw new NativeAddonError(
      `native addon not built: ${NATIVE_ADDON_PATH} is missing`,
      'run `npm ci` (or `npm run build:native`); building needs g++, make, python3 and the Node headers',
    );
  }
  try {
    return createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
  } catch (error) {
    throw new NativeAddonError(
      `cannot load the native addon ${NATIVE_ADDON_PATH}: ${(error as Error).message}`,
      'rebuild it with `npm run build:native`',
      error,
    );
  }
}
