import type { LanHooks } from '../l2/engine/engine.ts';
import type { LanPort, LanReceiver } from '../membership/io/lan-port.ts';
import type { LanPath } from '../membership/protocol/protocol.ts';

/** The part of the L2 engine the LAN path uses. */
export interface LanEngine {
  sendMembership(iface: string, destinationMac: string, payload: Uint8Array): boolean;
  broadcastMembership(payload: Uint8Array): void;
  pinInterfaces(interfaces: ReadonlySet<string>): void;
  listenForMembership(on: boolean): void;
}

/**
 * Joins the network thread's two parts for membership's LAN path: the L2 engine hands it
 * membership frames and conflicts and sends what membership asks; either part may start,
 * stop or be missing (`metalbeacon l2` runs no membership), and then the link does nothing.
 * One per thread, made by entry.ts and given to both parts.
 */
export class LanLink implements LanPort, LanHooks {
  #engine: LanEngine | undefined;
  #receiver: LanReceiver | undefined;
  #pinned: readonly string[] = [];

  /** The L2 part started (or stopped: undefined). */
  attachEngine(engine: LanEngine | undefined): void {
    this.#engine = engine;
    engine?.pinInterfaces(new Set(this.#pinned));
    engine?.listenForMembership(this.#receiver !== undefined);
  }

  frame(iface: string, sourceMac: string, payload: Uint8Array): void {
    this.#receiver?.frame(iface, sourceMac, payload);
  }

  conflict(iface: string, ip: string, otherMac: string): void {
    this.#receiver?.conflict(iface, ip, otherMac);
  }

  send(path: LanPath, bytes: Uint8Array): boolean {
    return this.#engine?.sendMembership(path.interface, path.mac, bytes) ?? false;
  }

  broadcast(bytes: Uint8Array): void {
    this.#engine?.broadcastMembership(bytes);
  }

  pin(interfaces: readonly string[]): void {
    this.#pinned = [...interfaces];
    this.#engine?.pinInterfaces(new Set(interfaces));
  }

  /** Membership starts (or stops: undefined) hearing the LAN path: the engine keeps every usable interface open for it. */
  listen(receiver: LanReceiver | undefined): void {
    this.#receiver = receiver;
    this.#engine?.listenForMembership(receiver !== undefined);
  }
}
