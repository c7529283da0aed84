import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabDaemon } from '../netns.ts';

/** A GoBGP neighbor. */
export interface GobgpNeighbor {
  readonly address: string;
  readonly as: number;
  readonly password?: string;
  readonly passive?: boolean;
  /** Hold time GoBGP proposes (it accepts values RFC 4271 forbids, handy for error tests). */
  readonly holdTimeSec?: number;
}

/** gobgpd in a lab namespace; its gRPC API on the namespace's own loopback. */
export class Gobgp {
  readonly daemon: LabDaemon;
  private readonly lab: Lab;
  private readonly ns: string;
  private readonly dir: string;
  private readonly apiPort: number;

  private constructor(lab: Lab, ns: string, dir: string, daemon: LabDaemon, apiPort: number) {
    this.lab = lab;
    this.ns = ns;
    this.dir = dir;
    this.daemon = daemon;
    this.apiPort = apiPort;
  }

  static config(
    as: number,
    routerId: string,
    localAddress: string,
    neighbors: readonly GobgpNeighbor[],
  ): string {
    const lines = [
      '[global.config]',
      `  as = ${as}`,
      `  router-id = "${routerId}"`,
      '  port = 179',
      `  local-address-list = ["${localAddress}"]`,
    ];
    for (const n of neighbors) {
      lines.push(
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${n.address}"`,
        `    peer-as = ${n.as}`,
        ...(n.password !== undefined ? [`    auth-password = "${n.password}"`] : []),
        '  [neighbors.timers.config]',
        '    connect-retry = 1',
        ...(n.holdTimeSec !== undefined ? [`    hold-time = ${n.holdTimeSec}`] : []),
        ...(n.passive ? ['  [neighbors.transport.config]', '    passive-mode = true'] : []),
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        '      afi-safi-name = "ipv4-unicast"',
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        '      afi-safi-name = "ipv6-unicast"',
      );
    }
    return `${lines.join('\n')}\n`;
  }

  static async start(
    lab: Lab,
    ns: string,
    options: {
      as: number;
      routerId: string;
      localAddress: string;
      neighbors: readonly GobgpNeighbor[];
      apiPort?: number;
    },
  ): Promise<Gobgp> {
    const dir = await mkdtemp(join(tmpdir(), 'mb-gobgp-'));
    const file = join(dir, 'gobgpd.toml');
    await writeFile(
      file,
      Gobgp.config(options.as, options.routerId, options.localAddress, options.neighbors),
    );
    const apiPort = options.apiPort ?? 50051;
    const daemon = lab.spawn(ns, [
      'gobgpd',
      '-f',
      file,
      '-t',
      'toml',
      '--api-hosts',
      `127.0.0.1:${apiPort}`,
      '-l',
      'info',
    ]);
    const g = new Gobgp(lab, ns, dir, daemon, apiPort);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await lab.exec(ns, ['gobgp', '-u', '127.0.0.1', '-p', String(apiPort), 'global'], {
        allowFailure: true,
      });
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`gobgpd did not start: ${daemon.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return g;
  }

  /** Runs the gobgp CLI against this daemon. */
  async cli(args: readonly string[]): Promise<string> {
    const r = await this.lab.exec(
      this.ns,
      ['gobgp', '-u', '127.0.0.1', '-p', String(this.apiPort), ...args],
      {
        timeoutMs: 60_000,
      },
    );
    return r.stdout;
  }

  /** The global RIB of a family as GoBGP's JSON: prefix → paths. */
  async rib(
    family: 'ipv4' | 'ipv6',
  ): Promise<Record<string, { attrs: { type: number; [k: string]: unknown }[] }[]>> {
    const out = await this.cli(['global', 'rib', '-a', family, '-j']);
    return JSON.parse(out || '{}');
  }

  async neighborState(address: string): Promise<string> {
    const out = await this.cli(['neighbor', address, '-j']);
    const j = JSON.parse(out || '{}') as { state?: { session_state?: number | string } };
    return String(j.state?.session_state ?? 'unknown');
  }

  async stop(): Promise<void> {
    await this.daemon.stop(3000);
    await rm(this.dir, { recursive: true, force: true });
  }
}
