import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Destination } from '../peers/peers.ts';

/**
 * Is the node of a restarting speaker still up? (docs/adr/0013-l2-restart-in-place.md) While a
 * peer restarts in place, our heartbeats to it go out on a UDP socket connected to its membership
 * port instead of the shared one: its node's kernel, alive while only the speaker is down, answers
 * each with ICMP port unreachable (as its rate limit lets it, about one a second), which Linux
 * reports on a connected socket only (ECONNREFUSED). Each refusal is `onRefused(peer)`; a node that
 * stops refusing is gone (the protocol decides, speaker/membership/protocol). A network that
 * drops the ICMP gives no refusal at all, and the hold then simply runs its course.
 */
export class NodeProbes {
  readonly #onRefused: (name: string) => void;
  /** Restarting peer name -> its socket, once connected (undefined while connecting). */
  readonly #sockets = new Map<string, { socket: Socket; connected: boolean }>();

  constructor(onRefused: (name: string) => void) {
    this.#onRefused = onRefused;
  }

  /** Opens a socket per restarting peer with a destination, and closes those of the others. */
  follow(restarting: readonly string[], destinations: ReadonlyMap<string, Destination>): void {
    for (const [name, probe] of this.#sockets) {
      if (restarting.includes(name)) continue;
      probe.socket.close();
      this.#sockets.delete(name);
    }
    for (const name of restarting) {
      const to = destinations.get(name);
      if (this.#sockets.has(name) || !to) continue;
      const socket = createSocket(isIP(to.address) === 6 ? 'udp6' : 'udp4');
      const probe = { socket, connected: false };
      const refused = (error: NodeJS.ErrnoException | null | undefined) => {
        if (error?.code === 'ECONNREFUSED') this.#onRefused(name);
      };
      // The kernel's refusal comes back as a socket error on the next read; anything else (no
      // route: the node's link is down) says nothing the hold's own timers do not cover.
      socket.on('error', refused);
      socket.connect(to.port, to.address, () => {
        probe.connected = true;
      });
      this.#sockets.set(name, probe);
    }
  }

  /** Sends `bytes` to a restarting peer on its probe socket; false when it has none (yet). */
  send(name: string, bytes: Uint8Array): boolean {
    const probe = this.#sockets.get(name);
    if (!probe?.connected) return false;
    try {
      probe.socket.send(bytes, (error) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ECONNREFUSED') this.#onRefused(name);
      });
    } catch {
      return false;
    }
    return true;
  }

  close(): void {
    for (const probe of this.#sockets.values()) probe.socket.close();
    this.#sockets.clear();
  }
}
