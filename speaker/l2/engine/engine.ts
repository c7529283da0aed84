import { assembleBpf, ownedAddressFilter, responderFilter } from '../bpf/bpf.ts';
import { BROADCAST_MAC, multicastMac, parseIpv6, parseMac, solicitedNodeAddress } from '../frames/addr.ts';
import {
  gratuitousArpReplyFrame,
  gratuitousArpRequestFrame,
  unsolicitedAdvertisementFrame,
} from '../frames/frame.ts';
import { decodeMembershipFrame, encodeMembershipFrame } from '../frames/membership.ts';
import { AnswerBudget, type RateLimit } from '../responder/rate-limiter.ts';
import { respond } from '../responder/responder.ts';
import { type AnnounceSchedule, burstOffsetsMs, DEFAULT_SCHEDULE } from '../responder/schedule.ts';
import {
  CounterName as Counter,
  type CounterName,
  type CounterRow,
  type FromWorker,
  type WorkerInterface,
} from './messages.ts';

/** The part of a packet socket the engine uses (native/index.ts PacketSocket). */
export interface EngineSocket {
  send(frame: Uint8Array): number;
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  setFilter(filter: Buffer): void;
  close(): void;
}

/**
 * Where the engine hands what membership needs from the wire (speaker/membership, its LAN
 * path): membership frames addressed to us, and conflicts (another host announcing an IP we
 * announce: perhaps a speaker we cannot hear on the membership port).
 */
export interface LanHooks {
  frame(iface: string, sourceMac: string, payload: Uint8Array): void;
  conflict(iface: string, ip: string, otherMac: string): void;
}

/** What the engine needs from its thread: sockets, timers and the clock, injected. */
export interface EngineDeps {
  openSocket(iface: WorkerInterface, onFrame: (frame: Buffer) => void): EngineSocket;
  post(message: FromWorker): void;
  nowMs(): number;
  setTimer(callback: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  lan?: LanHooks;
}

interface OpenInterface {
  readonly info: WorkerInterface;
  readonly socket: EngineSocket;
  /** IPs answered on this interface (canonical text). */
  readonly owned: Set<string>;
  /** multicast MAC → number of owned IPv6 addresses needing it. */
  readonly groups: Map<string, number>;
  /** The owned set the kernel filter was last built for. */
  /** undefined until the first narrowed filter is installed (the socket opens with the generic one). */
  filterFor: string | undefined;
}

const isIpv6 = (ip: string) => ip.includes(':');
/** RFC 5227 §2.4: at most one defence of an address per this interval. */
const DEFEND_INTERVAL_MS = 10_000;
const pairKey = (ip: string, iface: WorkerInterface) => `${ip}|${iface.name}|${iface.ifindex}|${iface.mac}`;

/**
 * The packet worker's state: which IP is answered on which interface, the sockets, the
 * takeover bursts and the counters. Converges to (desired IPs × available interfaces) on
 * every change, so an interface that comes back (or changes MAC) gets a fresh burst.
 */
export class L2Engine {
  readonly #deps: EngineDeps;
  #schedule: AnnounceSchedule = DEFAULT_SCHEDULE;
  #budget = new AnswerBudget();
  /** interface name → what we know of it. */
  #available = new Map<string, WorkerInterface>();
  /** IP → interface names (undefined: all available). */
  readonly #desired = new Map<string, string[] | undefined>();
  /** interface name → open socket and what it answers. */
  readonly #open = new Map<string, OpenInterface>();
  /** pairKey → pending burst timers. */
  readonly #bursts = new Map<string, unknown[]>();
  #refreshTimer: unknown;
  /** counter key → value. */
  readonly #counters = new Map<string, number>();
  /** event key → last time logged (throttles per-frame warnings). */
  readonly #lastLogged = new Map<string, number>();
  /** pairKey → when we last defended it against a conflicting announcement (owned pairs only). */
  readonly #defended = new Map<string, number>();
  /** Interfaces kept open for membership's LAN path even when nothing is announced there. */
  #pinned: ReadonlySet<string> = new Set();
  /** Membership runs on this thread: every usable interface stays open to hear its LAN path. */
  #membershipListens = false;

  constructor(deps: EngineDeps) {
    this.#deps = deps;
  }

  configure(schedule: AnnounceSchedule, rateLimit: RateLimit, overallRateLimit?: RateLimit): void {
    this.#schedule = schedule;
    this.#budget = new AnswerBudget(rateLimit, overallRateLimit);
    if (this.#refreshTimer !== undefined) this.#deps.clearTimer(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (schedule.refreshIntervalMs > 0) this.#scheduleRefresh();
  }

  setInterfaces(interfaces: readonly WorkerInterface[]): void {
    this.#available = new Map(interfaces.map((i) => [i.name, i]));
    this.#converge();
  }

  announce(ip: string, interfaces: string[] | undefined): void {
    this.#desired.set(ip, interfaces);
    this.#converge(ip);
  }

  withdraw(ip: string): void {
    this.#desired.delete(ip);
    this.#converge();
  }

  /**
   * Starts a fresh takeover burst for every IP announced now, on every interface. For when
   * another node may have announced our IPs meanwhile (it saw us dead while our link flapped):
   * clients follow whoever announced last.
   */
  reassert(): void {
    for (const open of this.#open.values()) {
      for (const ip of open.owned) this.#startBurst(pairKey(ip, open.info), ip, open);
    }
  }

  /**
   * Keeps a socket open on `interfaces` whatever is announced there: membership's LAN path
   * talks to peers over them (a node that gave an IP up to a peer it hears only there must
   * keep hearing it).
   */
  pinInterfaces(interfaces: ReadonlySet<string>): void {
    this.#pinned = new Set(interfaces);
    // Announced IPs that fail to open report that through their own announce, not here.
    this.#converge('');
  }

  /**
   * Keeps a socket open on every usable interface while membership listens (`on`), whatever is
   * announced there. The LAN path starts with a broadcast Claim from a speaker that lost a peer
   * on the membership port: a speaker that announced nothing had no socket, so it neither heard
   * that Claim nor could send its own, and the two counted each other dead for as long as the
   * port stayed blocked (ADR 0009). With nothing announced, the kernel filter passes only
   * membership frames (../bpf/bpf.ts ownedAddressFilter), so such a socket costs no answer work.
   */
  listenForMembership(on: boolean): void {
    if (this.#membershipListens === on) return;
    this.#membershipListens = on;
    this.#converge('');
  }

  /** Sends a membership message in a frame to `destinationMac` on `iface`; false when no socket is open there. */
  sendMembership(iface: string, destinationMac: string, payload: Uint8Array): boolean {
    const open = this.#open.get(iface);
    if (!open) return false;
    return this.#send(open, encodeMembershipFrame(destinationMac, open.info.mac, payload));
  }

  /** Broadcasts a membership message on every interface with an open socket. */
  broadcastMembership(payload: Uint8Array): void {
    for (const open of this.#open.values()) {
      this.#send(open, encodeMembershipFrame(BROADCAST_MAC, open.info.mac, payload));
    }
  }

  counters(): CounterRow[] {
    return [...this.#counters].map(([key, value]) => {
      const [name, ip, iface, reason] = key.split('\u0000') as [CounterName, string, string, string];
      return { name, ip, interface: iface, reason, value };
    });
  }

  active(): { ip: string; interfaces: string[] }[] {
    const byIp = new Map<string, string[]>();
    for (const [name, open] of this.#open) {
      for (const ip of open.owned) byIp.set(ip, [...(byIp.get(ip) ?? []), name]);
    }
    return [...byIp].map(([ip, interfaces]) => ({ ip, interfaces: interfaces.sort() }));
  }

  stop(): void {
    this.#desired.clear();
    this.#pinned = new Set();
    this.#membershipListens = false;
    this.#converge();
    if (this.#refreshTimer !== undefined) this.#deps.clearTimer(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  #count(name: CounterName, ip: string, iface: string, reason = '', by = 1): void {
    const key = `${name}\u0000${ip}\u0000${iface}\u0000${reason}`;
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + by);
  }

  #event(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields: Record<string, string | number | boolean>,
  ) {
    this.#deps.post({ type: 'event', level, message, fields });
  }

  /** At most one event per key per 10 s: a storm must not become a log storm. */
  #throttled(key: string): boolean {
    const now = this.#deps.nowMs();
    const last = this.#lastLogged.get(key);
    if (last !== undefined && now - last < 10_000) return true;
    if (this.#lastLogged.size > 10_000) this.#lastLogged.clear();
    this.#lastLogged.set(key, now);
    return false;
  }

  /** Whether an interface with nothing announced stays open for membership's LAN path. */
  #keptOpen(name: string): boolean {
    return this.#pinned.has(name) || (this.#membershipListens && this.#available.has(name));
  }

  /** Desired (IP, interface) pairs given what is available now. */
  #targetPairs(): Map<string, { ip: string; iface: WorkerInterface }> {
    const pairs = new Map<string, { ip: string; iface: WorkerInterface }>();
    for (const [ip, names] of this.#desired) {
      for (const iface of this.#available.values()) {
        if (names === undefined || names.includes(iface.name)) pairs.set(pairKey(ip, iface), { ip, iface });
      }
    }
    return pairs;
  }

  /**
   * Opens and closes sockets and starts bursts until (desired IPs × available interfaces) is
   * what is announced. Throws what failed, for `onlyFor`'s pairs when given (an announce
   * reports its own IP's failures, not those of IPs that failed before and are retried).
   */
  #converge(onlyFor?: string): void {
    const target = this.#targetPairs();
    // Remove first, so a withdrawn IP stops being answered before anything else happens.
    for (const [name, open] of this.#open) {
      const current = this.#available.get(name);
      const sameLink = current?.ifindex === open.info.ifindex && current.mac === open.info.mac;
      for (const ip of [...open.owned]) {
        if (sameLink && target.has(pairKey(ip, open.info))) continue;
        open.owned.delete(ip);
        this.#cancelBurst(pairKey(ip, open.info));
        this.#defended.delete(pairKey(ip, open.info));
        if (isIpv6(ip)) this.#leaveGroup(open, ip);
      }
      if ((open.owned.size === 0 && !this.#keptOpen(name)) || !sameLink) {
        open.socket.close();
        this.#open.delete(name);
        for (const ip of open.owned) this.#cancelBurst(pairKey(ip, open.info));
      }
    }
    const errors: string[] = [];
    let code: string | undefined;
    for (const [key, { ip, iface }] of target) {
      let open = this.#open.get(iface.name);
      if (open?.owned.has(ip)) continue;
      if (!open) {
        try {
          open = this.#openInterface(iface);
        } catch (error) {
          if (onlyFor === undefined || onlyFor === ip) {
            errors.push(`${iface.name}: ${(error as Error).message}`);
            code ??= (error as { code?: string }).code;
          }
          continue;
        }
      }
      if (isIpv6(ip)) this.#joinGroup(open, ip);
      open.owned.add(ip);
      this.#startBurst(key, ip, open);
      this.#event('info', 'announcing', { ip, interface: iface.name, mac: iface.mac });
    }
    for (const name of this.#membershipListens ? this.#available.keys() : this.#pinned) {
      const iface = this.#available.get(name);
      if (!iface || this.#open.has(name)) continue;
      try {
        this.#openInterface(iface);
      } catch (error) {
        if (!this.#throttled(`pin|${name}`)) {
          this.#event('warn', 'cannot open the interface for the membership LAN path', {
            interface: name,
            error: (error as Error).message,
          });
        }
      }
    }
    for (const open of this.#open.values()) this.#updateFilter(open);
    if (errors.length > 0) throw Object.assign(new Error(errors.join('; ')), { code });
  }

  /** Lets the kernel drop requests for IPs we do not own on this interface (see ../bpf/bpf.ts). */
  #updateFilter(open: OpenInterface): void {
    const owned = [...open.owned].sort();
    const signature = owned.join(',');
    if (signature === open.filterFor) return;
    const program =
      ownedAddressFilter(
        owned.filter((ip) => !isIpv6(ip)),
        owned.filter(isIpv6).map((ip) => parseIpv6(ip)!),
      ) ?? responderFilter();
    try {
      open.socket.setFilter(assembleBpf(program));
      open.filterFor = signature;
    } catch (error) {
      this.#event('warn', 'could not narrow the kernel filter; answering from the generic one', {
        interface: open.info.name,
        error: (error as Error).message,
      });
    }
  }

  #openInterface(iface: WorkerInterface): OpenInterface {
    const open: OpenInterface = {
      info: iface,
      owned: new Set(),
      groups: new Map(),
      filterFor: undefined,
      socket: this.#deps.openSocket(iface, (frame) => this.#onFrame(open, frame)),
    };
    this.#open.set(iface.name, open);
    return open;
  }

  #joinGroup(open: OpenInterface, ip: string): void {
    // Real NICs filter multicast: join the solicited-node group's MAC (RFC 4861 §7.2.1).
    const mac = multicastMac(solicitedNodeAddress(ip));
    const count = open.groups.get(mac) ?? 0;
    if (count === 0) open.socket.addMembership(Buffer.from(parseMac(mac)!));
    open.groups.set(mac, count + 1);
  }

  #leaveGroup(open: OpenInterface, ip: string): void {
    const mac = multicastMac(solicitedNodeAddress(ip));
    const count = open.groups.get(mac) ?? 0;
    if (count <= 1) {
      open.groups.delete(mac);
      try {
        open.socket.dropMembership(Buffer.from(parseMac(mac)!));
      } catch {
        // The interface may be gone already.
      }
    } else open.groups.set(mac, count - 1);
  }

  #onFrame(open: OpenInterface, frame: Buffer): void {
    const name = open.info.name;
    const membership = decodeMembershipFrame(frame);
    if (membership) {
      // Ours (unicast) or everyone's; a frame for another host seen on a promiscuous port is not.
      if (membership.destination === open.info.mac || membership.destination === BROADCAST_MAC) {
        this.#deps.lan?.frame(name, membership.source, membership.payload);
      }
      return;
    }
    const outcome = respond(frame, open.info, (ip) => open.owned.has(ip), this.#budget, this.#deps.nowMs());
    switch (outcome.kind) {
      case 'reply':
        this.#count(Counter.RequestsReceived, outcome.ip, name);
        if (this.#send(open, outcome.frame)) this.#count(Counter.ResponsesSent, outcome.ip, name);
        break;
      case 'rate-limited':
        this.#count(Counter.RequestsReceived, outcome.ip, name);
        this.#count(Counter.RateLimited, outcome.ip, name);
        if (!this.#throttled(`rate|${outcome.requester}`)) {
          this.#event('warn', 'requester over its rate limit, not answered', {
            ip: outcome.ip,
            interface: name,
            requester: outcome.requester,
          });
        }
        break;
      case 'dropped':
        this.#count(Counter.RequestsDropped, '', name, outcome.reason);
        if (!this.#throttled(`dropped|${name}|${outcome.reason}`)) {
          this.#event('debug', 'request dropped unanswered', {
            ip: outcome.ip,
            interface: name,
            reason: outcome.reason,
          });
        }
        break;
      case 'conflict':
        this.#count(Counter.Conflicts, outcome.ip, name);
        this.#defend(open, outcome.ip);
        this.#deps.lan?.conflict(name, outcome.ip, outcome.otherMac);
        if (!this.#throttled(`conflict|${outcome.ip}|${outcome.otherMac}`)) {
          this.#event('warn', 'another host announces an IP we own', {
            ip: outcome.ip,
            interface: name,
            otherMac: outcome.otherMac,
          });
        }
        break;
      case 'malformed':
        this.#count(Counter.MalformedDropped, '', name, outcome.code);
        if (!this.#throttled(`malformed|${name}`)) {
          this.#event('debug', 'malformed frame dropped', { interface: name, reason: outcome.message });
        }
        break;
      case 'ignored':
        break;
    }
  }

  #send(open: OpenInterface, frame: Uint8Array): boolean {
    try {
      open.socket.send(frame);
      return true;
    } catch (error) {
      const e = error as Error & { code?: string };
      this.#count(Counter.SendErrors, '', open.info.name, e.code ?? 'unknown');
      if (!this.#throttled(`send|${open.info.name}`)) {
        this.#event('warn', 'sending a frame failed', { interface: open.info.name, error: e.message });
      }
      return false;
    }
  }

  #announceOnce(ip: string, open: OpenInterface): void {
    const { mac, name } = open.info;
    const frames = isIpv6(ip)
      ? [unsolicitedAdvertisementFrame(ip, mac)]
      : [gratuitousArpRequestFrame(ip, mac), gratuitousArpReplyFrame(ip, mac)];
    for (const frame of frames) if (this.#send(open, frame)) this.#count(Counter.GratuitousSent, ip, name);
  }

  #startBurst(key: string, ip: string, open: OpenInterface): void {
    this.#cancelBurst(key);
    const timers: unknown[] = [];
    for (const offset of burstOffsetsMs(this.#schedule)) {
      if (offset === 0) {
        this.#announceOnce(ip, open);
        continue;
      }
      timers.push(
        this.#deps.setTimer(() => {
          if (this.#open.get(open.info.name) === open && open.owned.has(ip)) this.#announceOnce(ip, open);
        }, offset),
      );
    }
    this.#bursts.set(key, timers);
  }

  /**
   * Another host announced an IP we announce here: announce it again, as a fresh burst, at
   * most once per DEFEND_INTERVAL (RFC 5227 §2.4 (b)). Between speakers that briefly both
   * held it (one took it over while it could not hear the other), the one that gives it up
   * cancels its burst when it withdraws and ours, lasting longer, leaves the clients with
   * us; against a host that keeps claiming our IP it is one burst every 10 s, no fight.
   */
  #defend(open: OpenInterface, ip: string): void {
    const key = pairKey(ip, open.info);
    const now = this.#deps.nowMs();
    const last = this.#defended.get(key);
    if (last !== undefined && now - last < DEFEND_INTERVAL_MS) return;
    this.#defended.set(key, now);
    this.#startBurst(key, ip, open);
  }

  #cancelBurst(key: string): void {
    for (const timer of this.#bursts.get(key) ?? []) this.#deps.clearTimer(timer);
    this.#bursts.delete(key);
  }

  #scheduleRefresh(): void {
    this.#refreshTimer = this.#deps.setTimer(() => {
      for (const open of this.#open.values()) for (const ip of open.owned) this.#announceOnce(ip, open);
      this.#scheduleRefresh();
    }, this.#schedule.refreshIntervalMs);
  }
}
