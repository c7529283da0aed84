import { compareText } from '../../../shared/config/names.ts';
import type { Logger } from '../../../shared/log/logger.ts';
import type { ActiveAnnouncement, CounterRow, LoopWork, WorkerInterface } from '../engine/messages.ts';
import { canonicalIp } from '../frames/addr.ts';
import { DEFAULT_EXCLUDE, type LinkInfo, lanCarrier, selectInterfaces } from '../links/select-interfaces.ts';
import {
  checkRateLimit,
  DEFAULT_OVERALL_LIMIT,
  DEFAULT_RATE_LIMIT,
  type RateLimit,
} from '../responder/rate-limiter.ts';
import { type AnnounceSchedule, DEFAULT_SCHEDULE, validateSchedule } from '../responder/schedule.ts';
import { findKernelArpAnswers, setStrictArp } from './kernel-arp.ts';
import { readLinks } from './sysfs-links.ts';
import { L2Transport, TransportError } from './transport.ts';

/** Options of {@link L2Announcer}. */
export interface L2AnnouncerOptions {
  logger: Logger;
  schedule?: AnnounceSchedule;
  /** Answers per requester (MAC and interface). */
  rateLimit?: RateLimit;
  /** Answers of all requesters together. */
  overallRateLimit?: RateLimit;
  /** Interfaces never used unless named explicitly (default {@link DEFAULT_EXCLUDE}). */
  excludeInterfaces?: RegExp;
  /** How often interfaces are re-read (links appearing, going down, changing MAC). */
  rescanIntervalMs?: number;
  /** When the kernel would answer ARP for a service IP too: only warn, or set arp_ignore/arp_announce. */
  kernelArp?: 'warn' | 'set';
  /**
   * SCHED_FIFO priority of the network thread the packet worker runs on (0 or absent: none,
   * a short slice; refused: a warning and the slice). speaker/network-thread/scheduling.ts.
   */
  networkThreadPriority?: number;
  /** Called if the packet worker dies; the announcer is unusable afterwards. */
  onFatal?: (error: Error) => void;
}

/** A request the announcer refuses; `code` is stable (`bad-ip`, `permission`, `socket`). */
export class L2AnnouncerError extends Error {
  readonly code: 'bad-ip' | 'permission' | 'socket' | 'bad-option';
  constructor(code: L2AnnouncerError['code'], message: string) {
    super(message);
    this.name = 'L2AnnouncerError';
    this.code = code;
  }
}

const sameLinks = (a: readonly WorkerInterface[], b: readonly WorkerInterface[]) =>
  a.length === b.length &&
  a.every((x, i) => x.name === b[i]?.name && x.ifindex === b[i]?.ifindex && x.mac === b[i]?.mac);

/**
 * Announces service IPs on this host's interfaces by answering ARP / NS and sending
 * gratuitous ARP / unsolicited NA on takeover (issue 5). Packet I/O runs in a Worker;
 * this class discovers interfaces, checks the kernel's own ARP behaviour and relays.
 *
 * `announce(ip, interfaces)` takes effect (and its first announcements are sent) before
 * the returned promise resolves; `withdraw(ip)` stops answering before it resolves.
 */
export class L2Announcer {
  readonly #options: L2AnnouncerOptions;
  readonly #log: Logger;
  readonly #transport: L2Transport;
  /** canonical IP → interface names asked for (undefined: all eligible). */
  readonly #desired = new Map<string, string[] | undefined>();
  #interfaces: WorkerInterface[] = [];
  #links: LinkInfo[] = [];
  /** Eligible interfaces not excluded by pattern: where IPs without interface names go. */
  #patternEligible: string[] = [];
  #rescanTimer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: L2AnnouncerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#transport = new L2Transport({
      onEvent: (event) => this.#log[event.level](event.fields, event.message),
      onExit: (error) => {
        if (this.#closed) return;
        const failure = error ?? new Error('the L2 packet worker exited unexpectedly');
        this.#log.error({ err: failure }, 'L2 packet worker stopped');
        options.onFatal?.(failure);
      },
      priority: options.networkThreadPriority ?? 0,
    });
  }

  /** Starts the packet worker and reads the interfaces. */
  static async start(options: L2AnnouncerOptions): Promise<L2Announcer> {
    const schedule = options.schedule ?? DEFAULT_SCHEDULE;
    const problem = validateSchedule(schedule);
    if (problem) throw new L2AnnouncerError('bad-option', `announce schedule: ${problem}`);
    const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
    const overallRateLimit = options.overallRateLimit ?? DEFAULT_OVERALL_LIMIT;
    try {
      checkRateLimit(rateLimit, 'per-requester rate limit');
      checkRateLimit(overallRateLimit, 'overall rate limit');
    } catch (error) {
      throw new L2AnnouncerError('bad-option', (error as Error).message);
    }
    const announcer = new L2Announcer(options);
    try {
      await announcer.#transport.request({
        type: 'configure',
        schedule,
        rateLimit,
        overallRateLimit,
      });
      await announcer.#rescan();
    } catch (error) {
      await announcer.close();
      throw error;
    }
    const every = options.rescanIntervalMs ?? 2000;
    announcer.#rescanTimer = setInterval(() => {
      announcer
        .#rescan()
        .catch((error: unknown) => announcer.#log.warn({ err: error }, 'interface rescan failed'));
    }, every);
    announcer.#rescanTimer.unref();
    return announcer;
  }

  /** Interfaces IPs without an interface list are announced on, right now. */
  interfaces(): string[] {
    return [...this.#patternEligible];
  }

  /**
   * Starts answering for `ip` on `interfaces` (names; omitted or empty: every eligible
   * interface) and sends the takeover burst. Idempotent; a new interface list replaces the old.
   */
  async announce(ip: string, interfaces?: readonly string[]): Promise<void> {
    const canonical = canonicalIp(ip);
    if (!canonical) throw new L2AnnouncerError('bad-ip', `"${ip}" is not an IPv4 or IPv6 address`);
    const names = interfaces && interfaces.length > 0 ? [...interfaces].sort() : undefined;
    this.#desired.set(canonical.text, names);
    if (names?.some((n) => !this.#interfaces.some((i) => i.name === n))) await this.#rescan();
    for (const name of names ?? []) {
      const reason = selectInterfaces(this.#links, { listed: [name], exclude: /$^/ }).skipped.find(
        (s) => s.name === name,
      )?.reason;
      if (reason)
        this.#log.warn(
          { ip: canonical.text, interface: name, reason },
          'interface not usable now; will use it when it is',
        );
      else if (!this.#interfaces.some((i) => i.name === name)) {
        this.#log.warn(
          { ip: canonical.text, interface: name },
          'no such interface now; will use it when it appears',
        );
      }
    }
    const resolved = names ?? this.#patternEligible;
    await this.#checkKernelArp(canonical.text, resolved);
    try {
      await this.#transport.request({ type: 'announce', ip: canonical.text, interfaces: resolved });
    } catch (error) {
      throw this.#translate(error, canonical.text);
    }
  }

  /** Stops answering for `ip` everywhere (done when the promise resolves). */
  async withdraw(ip: string): Promise<void> {
    const canonical = canonicalIp(ip);
    if (!canonical) throw new L2AnnouncerError('bad-ip', `"${ip}" is not an IPv4 or IPv6 address`);
    this.#desired.delete(canonical.text);
    await this.#transport.request({ type: 'withdraw', ip: canonical.text });
  }

  /** Sends a fresh takeover burst for every IP announced now (done when the first frames are out). */
  async reassert(): Promise<void> {
    await this.#transport.request({ type: 'reassert' });
  }

  /**
   * Whether an interface this announcer uses, or would use with carrier, has carrier now, read
   * afresh (not from the last rescan); undefined when there is none (lanCarrier).
   */
  async lanUp(): Promise<boolean | undefined> {
    const listed = this.#listed();
    const exclude = this.#options.excludeInterfaces ?? DEFAULT_EXCLUDE;
    const links = await readLinks(undefined, (name) => listed.has(name) || !exclude.test(name));
    return lanCarrier(links, { listed: [...listed], exclude: this.#options.excludeInterfaces });
  }

  /** Counters and where each IP is announced now. */
  snapshot(): Promise<{ counters: CounterRow[]; active: ActiveAnnouncement[] }> {
    return this.#transport.snapshot();
  }

  /** The network thread's loop iterations (for the metrics); the longest is since the previous call. */
  loopWork(): Promise<LoopWork | undefined> {
    return this.#transport.loopWork();
  }

  /** Withdraws everything and stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#rescanTimer) clearInterval(this.#rescanTimer);
    await this.#transport.stop();
  }

  #translate(error: unknown, ip: string): Error {
    if (error instanceof TransportError) {
      if (error.code === 'EPERM' || error.code === 'EACCES') {
        return new L2AnnouncerError('permission', `cannot announce ${ip}: ${error.message}`);
      }
      return new L2AnnouncerError('socket', `cannot announce ${ip}: ${error.message}`);
    }
    return error as Error;
  }

  async #checkKernelArp(ip: string, interfaces: readonly string[]): Promise<void> {
    const findings = await findKernelArpAnswers(ip, interfaces);
    if (findings.length === 0) return;
    const names = findings.map((f) => f.interface).join(',');
    if (this.#options.kernelArp === 'set') {
      await setStrictArp();
      this.#log.warn(
        { ip, interfaces: names },
        'set net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 so only we answer ARP for service IPs',
      );
      return;
    }
    this.#log.warn(
      { ip, interfaces: names, arpIgnore: findings[0]?.arpIgnore },
      'the kernel also answers ARP for this IP (it is local here and arp_ignore=0), so every such node answers: ' +
        'set net.ipv4.conf.all.arp_ignore=1 and net.ipv4.conf.all.arp_announce=2 (kube-proxy IPVS: strictARP: true), ' +
        'or let MetalBeacon set them',
    );
  }

  /** Interface names the announced IPs ask for by name. */
  #listed(): Set<string> {
    const listed = new Set<string>();
    for (const names of this.#desired.values()) for (const n of names ?? []) listed.add(n);
    return listed;
  }

  async #rescan(): Promise<void> {
    const listed = this.#listed();
    const exclude = this.#options.excludeInterfaces ?? DEFAULT_EXCLUDE;
    const links: LinkInfo[] = await readLinks(undefined, (name) => listed.has(name) || !exclude.test(name));
    this.#links = links;
    // Explicitly named interfaces bypass the exclude pattern; IPs without names use the rest.
    const byName = selectInterfaces(links, { listed: [...listed], exclude: /$^/ }).selected;
    const byPattern = selectInterfaces(links, { exclude: this.#options.excludeInterfaces }).selected;
    const chosen = new Map<string, LinkInfo>();
    for (const link of [...byName, ...byPattern]) chosen.set(link.name, link);
    const next = [...chosen.values()]
      .sort((a, b) => compareText(a.name, b.name))
      .map((l) => ({ name: l.name, ifindex: l.ifindex, mac: l.mac }));
    const patternNames = byPattern.map((l) => l.name).sort();
    const patternChanged = patternNames.join(',') !== this.#patternEligible.join(',');
    this.#patternEligible = patternNames;
    if (!sameLinks(next, this.#interfaces)) {
      this.#log.info(
        { interfaces: next.map((i) => `${i.name}(${i.mac})`).join(' ') },
        'usable interfaces changed',
      );
      this.#interfaces = next;
      await this.#transport.request({ type: 'interfaces', interfaces: next });
    }
    if (patternChanged) {
      for (const [ip, names] of this.#desired) {
        if (names === undefined)
          await this.#transport.request({ type: 'announce', ip, interfaces: patternNames });
      }
    }
  }
}
