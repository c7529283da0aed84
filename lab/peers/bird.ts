import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabDaemon } from '../netns.ts';
import {
  type BirdBfd,
  type BirdBfdSession,
  birdBfdProtocol,
  birdBgpProtocol,
  GRACEFUL_SHUTDOWN_FILTER,
  parseBirdBfdSessions,
} from '../router.ts';

/** One BGP neighbor of the BIRD router. */
export interface BirdNeighbor {
  readonly name: string;
  readonly localAddress: string;
  readonly localAs: number;
  readonly address: string;
  readonly as: number;
  readonly holdTimeSec?: number;
  readonly password?: string;
  /** Accept both families over this session. */
  readonly families?: readonly ('ipv4' | 'ipv6')[];
  /** Long-lived stale routes on peer restart (RFC 4724 receiving side). */
  readonly gracefulRestart?: boolean;
  /** Export BIRD's static routes to this neighbor (for captures of BIRD's UPDATEs). */
  readonly exportStatic?: boolean;
  /** Ask BIRD's BFD for a session with this neighbor (`bfd on`): BFD Down takes the session down. */
  readonly bfd?: boolean;
  /** Extra lines inside the protocol block. */
  readonly extra?: string;
}

/**
 * BIRD 2 in a lab namespace, with its config and control socket in a temp dir; no kernel
 * protocol (routes stay in BIRD's tables, so BIRD's own speed is not the limit). An import
 * filter lowers LOCAL_PREF of GRACEFUL_SHUTDOWN routes (RFC 8326 §4, as operators configure).
 */
export class Bird {
  readonly daemon: LabDaemon;
  readonly dir: string;
  private readonly lab: Lab;
  private readonly ns: string;

  private constructor(lab: Lab, ns: string, dir: string, daemon: LabDaemon) {
    this.lab = lab;
    this.ns = ns;
    this.dir = dir;
    this.daemon = daemon;
  }

  static config(
    routerId: string,
    neighbors: readonly BirdNeighbor[],
    statics: { ipv4?: readonly string[]; ipv6?: readonly string[] } = {},
    bfd?: BirdBfd,
  ): string {
    const lines = [
      `router id ${routerId};`,
      'log stderr all;',
      'protocol device { scan time 10; }',
      GRACEFUL_SHUTDOWN_FILTER,
    ];
    if (statics.ipv4?.length) {
      lines.push(`protocol static { ipv4; ${statics.ipv4.map((p) => `route ${p} blackhole;`).join(' ')} }`);
    }
    if (statics.ipv6?.length) {
      lines.push(`protocol static { ipv6; ${statics.ipv6.map((p) => `route ${p} blackhole;`).join(' ')} }`);
    }
    if (bfd) lines.push(birdBfdProtocol(bfd));
    for (const n of neighbors) {
      const families = n.families ?? ['ipv4', 'ipv6'];
      lines.push(
        ...birdBgpProtocol({ ...n, peerAs: n.as }, [
          ...(n.holdTimeSec !== undefined
            ? [`  hold time ${n.holdTimeSec};`, '  startup hold time 240;']
            : []),
          ...(n.password !== undefined ? [`  password "${n.password}";`] : []),
          ...(n.bfd ? ['  bfd on;'] : []),
          ...(n.gracefulRestart ? ['  graceful restart on;', '  graceful restart time 120;'] : []),
          ...families.map(
            (f) =>
              `  ${f} { import filter gshut; export ${n.exportStatic ? 'where source = RTS_STATIC' : 'none'}; };`,
          ),
          ...(n.extra ? [n.extra] : []),
        ]),
      );
    }
    return `${lines.join('\n')}\n`;
  }

  /** Starts `bird -f` in the namespace and waits until its control socket answers. */
  static async start(
    lab: Lab,
    ns: string,
    routerId: string,
    neighbors: readonly BirdNeighbor[],
    statics: { ipv4?: readonly string[]; ipv6?: readonly string[] } = {},
    options: { bfd?: BirdBfd } = {},
  ): Promise<Bird> {
    const dir = await mkdtemp(join(tmpdir(), 'mb-bird-'));
    await writeFile(join(dir, 'bird.conf'), Bird.config(routerId, neighbors, statics, options.bfd));
    const daemon = lab.spawn(ns, ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', join(dir, 'bird.ctl')]);
    const bird = new Bird(lab, ns, dir, daemon);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await bird.birdc(['show', 'status'], true);
      if (r.includes('BIRD')) break;
      if (Date.now() > deadline) throw new Error(`BIRD did not start: ${daemon.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return bird;
  }

  /** Runs birdc against this BIRD; returns stdout. */
  async birdc(args: readonly string[], allowFailure = false): Promise<string> {
    const r = await this.lab.exec(this.ns, ['birdc', '-s', join(this.dir, 'bird.ctl'), ...args], {
      allowFailure,
    });
    return r.stdout;
  }

  /** `show route all table master4|6` text. */
  async routes(family: 'ipv4' | 'ipv6'): Promise<string> {
    return this.birdc(['show', 'route', 'all', 'table', family === 'ipv4' ? 'master4' : 'master6']);
  }

  /** Number of routes BIRD holds in a table (`show route count`). */
  async count(family: 'ipv4' | 'ipv6'): Promise<number> {
    const out = await this.birdc([
      'show',
      'route',
      'count',
      'table',
      family === 'ipv4' ? 'master4' : 'master6',
    ]);
    const m = /(\d+) of \d+ routes/.exec(out);
    return m ? Number(m[1]) : 0;
  }

  /** BGP state of a protocol as BIRD shows it (Established, Active, Connect, Idle...). */
  async protocolState(name: string): Promise<string> {
    const out = await this.birdc(['show', 'protocols', 'all', name]);
    return /BGP state:\s+(\S+)/.exec(out)?.[1] ?? 'unknown';
  }

  async protocolInfo(name: string): Promise<string> {
    return this.birdc(['show', 'protocols', 'all', name]);
  }

  /** BIRD's BFD sessions (`show bfd sessions`). */
  async bfdSessions(): Promise<BirdBfdSession[]> {
    return parseBirdBfdSessions(await this.birdc(['show', 'bfd', 'sessions'], true));
  }

  /**
   * Rewrites the configuration and applies it (`birdc configure`): BIRD changes what it can
   * in place (BFD timers through a Poll Sequence) and restarts only what it must.
   */
  async reconfigure(
    routerId: string,
    neighbors: readonly BirdNeighbor[],
    statics: { ipv4?: readonly string[]; ipv6?: readonly string[] } = {},
    options: { bfd?: BirdBfd } = {},
  ): Promise<void> {
    await writeFile(join(this.dir, 'bird.conf'), Bird.config(routerId, neighbors, statics, options.bfd));
    const out = await this.birdc(['configure']);
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`BIRD configure: ${out}`);
  }

  async stop(): Promise<void> {
    await this.daemon.stop(3000);
    await rm(this.dir, { recursive: true, force: true });
  }
}
