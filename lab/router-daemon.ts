/**
 * The topology's router while it runs: BIRD in the router namespace with router.ts's
 * configuration, its control socket and log in the run directory; restarted and reconfigured on
 * request, read back through `birdc` and the router's kernel table.
 */
import { writeFileSync } from 'node:fs';
import { parseCidr } from '../shared/net/ip.ts';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { type Lab, type LabDaemon, untilExit } from './netns.ts';
import {
  type BirdBfd,
  type BirdBfdSession,
  type BirdRoute,
  type KernelRoute,
  parseBirdBfdSessions,
  parseBirdRoutes,
  parseKernelRoutes,
  type RouterConfigOptions,
  routerBirdConfig,
} from './router.ts';

/**
 * The router's BFD: the timers of the lab's BFDProfile lab-bfd (lab/manifests/pools.yaml), and
 * `bfd graceful`, so a node whose session negotiated graceful restart keeps its routes across a
 * speaker restart (BIRD takes the AdminDown we send as we stop for a BFD failure).
 */
export const LAB_BFD: BirdBfd = { minRxMs: 300, minTxMs: 300, multiplier: 3, graceful: true };

/** What of the router's configuration may change while it runs. */
export type RouterChanges = Pick<RouterConfigOptions, 'holdTimeSec' | 'bfd'>;

/** BIRD as the lab router; {@link LabRouter.restart} replaces the process. */
export class LabRouter {
  readonly #lab: Lab;
  readonly #conf: string;
  readonly #socket: string;
  readonly #logFile: string;
  /** As started; each {@link LabRouter.configure} applies its changes to this. */
  readonly #config: RouterConfigOptions;
  #bird: LabDaemon | undefined;

  private constructor(lab: Lab, runDir: string, config: RouterConfigOptions) {
    this.#lab = lab;
    this.#conf = `${runDir}/bird.conf`;
    this.#socket = `${runDir}/bird.ctl`;
    this.#logFile = `${runDir}/logs/bird.log`;
    this.#config = config;
  }

  /** Writes the configuration and starts BIRD; resolves once it answers on its control socket. */
  static async start(lab: Lab, runDir: string, config: RouterConfigOptions): Promise<LabRouter> {
    const router = new LabRouter(lab, runDir, config);
    writeFileSync(router.#conf, routerBirdConfig(config));
    await router.#spawn();
    return router;
  }

  /** BIRD as running now. */
  get bird(): LabDaemon {
    return this.#bird!;
  }

  /** `birdc ARGS` in the router namespace; stdout. */
  async birdc(args: readonly string[]): Promise<string> {
    return (await this.#lab.exec('router', ['birdc', '-s', this.#socket, ...args])).stdout;
  }

  /** Stops BIRD (SIGTERM), waits `downMs` and starts it again with the same configuration. */
  async restart(downMs = 0): Promise<void> {
    await this.bird.kill('SIGTERM', 5_000);
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.#spawn();
  }

  /** Rewrites the configuration as started with `changes` and applies it (`birdc configure`). */
  async configure(changes: RouterChanges): Promise<void> {
    writeFileSync(this.#conf, routerBirdConfig({ ...this.#config, ...changes }));
    const out = await this.birdc(['configure']);
    if (!/Reconfigured|Reconfiguration in progress/.test(out)) throw new Error(`BIRD configure: ${out}`);
  }

  /** BIRD's routes (all paths) within `prefix`, or all of both tables. */
  async routes(prefix?: string): Promise<BirdRoute[]> {
    const args = prefix === undefined ? ['show', 'route'] : ['show', 'route', 'in', prefix];
    const tables =
      prefix === undefined
        ? [
            [...args, 'table', 'master4'],
            [...args, 'table', 'master6'],
          ]
        : [args];
    const out: BirdRoute[] = [];
    for (const a of tables) out.push(...parseBirdRoutes(await this.birdc(a)));
    return out;
  }

  /** The kernel routes BIRD installed (ECMP next hops) within `prefix`, or all of the family. */
  async kernelRoutes(family: 'IPv4' | 'IPv6', prefix?: string): Promise<KernelRoute[]> {
    const flag = family === 'IPv4' ? '-4' : '-6';
    const args = [flag, '-j', 'route', 'show', 'proto', 'bird'];
    if (prefix !== undefined) args.push('root', prefix);
    const routes = parseKernelRoutes((await this.#lab.ip('router', args)).stdout, family);
    return prefix === undefined ? routes : routes.filter((r) => withinPrefix(r.prefix, prefix));
  }

  /** BIRD's BFD sessions (`show bfd sessions`). */
  async bfdSessions(): Promise<BirdBfdSession[]> {
    return parseBirdBfdSessions(await this.birdc(['show', 'bfd', 'sessions']));
  }

  async #spawn(): Promise<void> {
    const bird = this.#lab.spawn('router', ['bird', '-f', '-c', this.#conf, '-s', this.#socket], {
      logFile: this.#logFile,
    });
    this.#bird = bird;
    await waitFor(
      'BIRD to answer on its control socket',
      async () => {
        const r = await this.#lab.exec('router', ['birdc', '-s', this.#socket, 'show', 'status'], {
          allowFailure: true,
        });
        return /Daemon is up and running/.test(r.stdout) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, signal: untilExit(bird, 'BIRD') },
    );
  }
}

/** True when `route` (a CIDR) lies within `prefix` (a CIDR). */
function withinPrefix(route: string, prefix: string): boolean {
  const r = parseCidr(route);
  const p = parseCidr(prefix);
  if (!r.ok || !p.ok || r.value.family !== p.value.family) return false;
  return r.value.first >= p.value.first && r.value.last <= p.value.last;
}
