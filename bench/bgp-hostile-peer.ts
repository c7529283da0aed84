import * as net from 'node:net';
import { waitFor } from '../shared/runtime/wait-for.ts';
import {
  BgpFramer,
  type BgpMessage,
  type Capability,
  encodeMessage,
  endOfRibFamily,
  type NotificationMessage,
  type OpenMessage,
  type UpdateMessage,
} from '../speaker/bgp/codec/index.ts';

/**
 * A BGP peer of our own for the hostile-peer suite: on loopback it listens (the speaker connects
 * to it) or connects to the speaker's listener, speaks through our codec, and also does what a
 * broken router or an attacker holding one does: sends any octets, stops reading, opens a
 * second connection while the first is up.
 */

/** What the peer's OPEN offers. */
export interface PeerOpenOptions {
  readonly as?: number;
  readonly bgpId?: string;
  readonly holdTimeSec?: number;
  /** MP capabilities (RFC 4760); an empty list sends none (the peer is then IPv4 only). */
  readonly families?: readonly { afi: number; safi: number }[];
  readonly extendedMessage?: boolean;
  /** Graceful restart capability (RFC 4724) listing the families. */
  readonly gracefulRestart?: boolean;
}

const BOTH = [
  { afi: 1, safi: 1 },
  { afi: 2, safi: 1 },
];

/** The peer's OPEN: AS 65000, 4-octet AS and route refresh always, the rest as asked. */
export function peerOpen(o: PeerOpenOptions = {}): OpenMessage {
  const as = o.as ?? 65000;
  const families = o.families ?? BOTH;
  const capabilities: Capability[] = families.map((f) => ({ kind: 'multiprotocol', ...f }));
  capabilities.push({ kind: 'route-refresh' }, { kind: 'four-octet-as', asn: as });
  if (o.extendedMessage) capabilities.push({ kind: 'extended-message' });
  if (o.gracefulRestart) {
    capabilities.push({
      kind: 'graceful-restart',
      restartState: false,
      notification: false,
      restartTimeSec: 120,
      families: families.map((f) => ({ ...f, forwardingState: true })),
    });
  }
  return {
    type: 'open',
    version: 4,
    myAs: as,
    holdTimeSec: o.holdTimeSec ?? 90,
    bgpId: o.bgpId ?? '192.0.2.1',
    capabilities,
  };
}

/** One TCP connection between the peer and the speaker, with everything the speaker sent. */
export class PeerConnection {
  readonly socket: net.Socket;
  readonly received: BgpMessage[] = [];
  /** Octets received so far. */
  bytesReceived = 0;
  closed = false;
  private readonly framer = new BgpFramer({ fourOctetAs: true, extendedMessage: true });

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.bytesReceived += chunk.length;
      for (const m of this.framer.push(chunk)) this.received.push(m);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  send(message: BgpMessage): void {
    this.socket.write(encodeMessage(message, { fourOctetAs: true, extendedMessage: true }));
  }

  /** Any octets, well-formed or not. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Waits for the speaker's OPEN, answers with `open` and a KEEPALIVE, waits for its KEEPALIVE. */
  async establish(open: OpenMessage): Promise<void> {
    await this.until('the speaker OPEN', () =>
      this.received.some((m) => m.type === 'open') ? true : undefined,
    );
    this.send(open);
    this.send({ type: 'keepalive' });
    await this.until('the speaker KEEPALIVE', () =>
      this.received.some((m) => m.type === 'keepalive') ? true : undefined,
    );
  }

  /** Stops reading: the kernel's receive buffer fills and the speaker's writes stall. */
  pauseReading(): void {
    this.socket.pause();
  }

  updates(): UpdateMessage[] {
    return this.received.filter((m): m is UpdateMessage => m.type === 'update');
  }

  /** AFIs of the End-of-RIB markers received, in order. */
  endOfRibs(): number[] {
    return this.updates().flatMap((u) => {
      const eor = endOfRibFamily(u);
      return eor ? [eor.afi] : [];
    });
  }

  /** Prefixes announced so far (IPv4 NLRI and MP_REACH). */
  announced(): string[] {
    return this.updates().flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]);
  }

  notification(): NotificationMessage | undefined {
    return this.received.find((m): m is NotificationMessage => m.type === 'notification');
  }

  /** Waits until `check` returns a value (polled every 20 ms). */
  until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    return waitFor(what, check, { timeoutMs, intervalMs: 20 }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; received ${this.received.map((m) => m.type).join(',')}`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The peer listening on 127.0.0.1 (the speaker's `--peer-port`); hands out each connection. */
export class PeerListener {
  readonly connections: PeerConnection[] = [];
  private readonly server: net.Server;
  private closing = false;

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => {
      if (this.closing) socket.destroy();
      else this.connections.push(new PeerConnection(socket));
    });
  }

  static async start(): Promise<PeerListener> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new PeerListener(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The `index`-th connection the speaker made (0 first), once it arrives. */
  connection(index: number, timeoutMs = 15_000): Promise<PeerConnection> {
    return waitFor(`connection #${index + 1} from the speaker`, () => this.connections[index], { timeoutMs });
  }

  /** Stops listening and drops every connection (also one accepted while closing). */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const c of this.connections) c.close();
    await closed;
  }
}

/** Connects to the speaker's listener from `localAddress` (the configured peer address, or not). */
export async function connectToSpeaker(port: number, localAddress = '127.0.0.1'): Promise<PeerConnection> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const connection = new PeerConnection(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return connection;
}

/** A TCP port free on 127.0.0.1 right now (for the speaker's listener and metrics endpoint). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
