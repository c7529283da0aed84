import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { waitFor } from '../shared/runtime/wait-for.ts';
import { type LabState, processStartTime, writeLabState } from './state.ts';

/** What a command printed and how it ended. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; 0 on success. */
  code: number;
}

/** Options for {@link Lab.exec}. */
export interface ExecOptions {
  /** Do not throw on a non-zero exit status; return it instead. */
  allowFailure?: boolean;
  /** Kill the command after this long (default 30 s). */
  timeoutMs?: number;
}

/** Addresses given to a host's end of a LAN link (prefix lengths included). */
export interface LinkAddresses {
  /** e.g. `192.0.2.10/24`. */
  ipv4?: string;
  /** e.g. `2001:db8:0:1::10/64`. */
  ipv6?: string;
}

/** A host's link to the LAN bridge. */
export interface LabLink {
  /** Namespace (full name) of the host end. */
  namespace: string;
  /** Interface name inside the host namespace (e.g. `eth0`). */
  ifName: string;
  /** The bridge-side port name inside the LAN namespace. */
  portName: string;
  /** MAC address of the host end, lower-case `aa:bb:cc:dd:ee:ff`. */
  mac: string;
}

/** A long-running process started inside a namespace, kept as our direct child. */
export interface LabDaemon {
  /** Full namespace name; empty for a host-namespace daemon ({@link Lab.spawnHost}). */
  readonly namespace: string;
  readonly pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22). */
  readonly startTime: number;
  readonly argv: readonly string[];
  readonly child: ChildProcess;
  /** Everything written to stdout/stderr so far (for diagnostics in failing tests). */
  output(): string;
  /** Resolves when the process has exited (code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, wait up to `graceMs` (default 5 s), then SIGKILL; always waits for the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal`, SIGKILL after `graceMs` (default 5 s) if still running; always waits for the exit. */
  kill(
    signal: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Options of {@link Lab.create}. */
export interface LabOptions {
  /** Record namespaces, daemons and paths here, for cleanup after a crash. */
  stateFile?: string;
  /**
   * Start daemons in their own process groups, so a terminal's Ctrl-C reaches only the lab
   * process, which then stops them in order (`metalbeacon lab`). Tests keep the default (off):
   * there a Ctrl-C of the test run also ends the daemons.
   */
  detachDaemons?: boolean;
}

/** Options of {@link Lab.spawn} / {@link Lab.spawnHost}. */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: boolean;
  /** Also append everything the daemon writes to this file (for people exploring a kept lab). */
  logFile?: string;
}

/** Per-namespace sysctls the DESIGN "facts" call for, applied before any interface is made. */
const HOST_SYSCTLS = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.dad_transmits=0',
  'net.ipv6.conf.default.dad_transmits=0',
  'net.ipv6.conf.all.accept_ra=0',
  'net.ipv6.conf.default.accept_ra=0',
  // Without it, cutting a link (failover tests) deletes the IPv6 addresses.
  'net.ipv6.conf.all.keep_addr_on_down=1',
  'net.ipv6.conf.default.keep_addr_on_down=1',
] as const;

const ROUTER_SYSCTLS = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'] as const;

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;

/** Runs a command in the host namespace (only `ip` itself, to make or remove namespaces). */
async function run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('lab: empty command');
  // Its own process group (detached): a Ctrl-C on the terminal signals the whole foreground
  // group, and must not kill a command half-way while the lab is being built or removed.
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      stderr += error.message;
      resolve(-1);
    });
    child.on('close', (exitCode) => resolve(exitCode ?? -1));
  });
  clearTimeout(timer);
  if (code === 0 || options.allowFailure) return { stdout, stderr, code };
  throw new Error(`lab: "${argv.join(' ')}" failed (${code}): ${stderr.trim()}`);
}

/** Namespaces whose name starts with `prefix-` (what a crashed run may have left). */
export async function listNamespaces(prefix: string): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));
}

/**
 * Deletes a namespace and ends the processes still inside it. Only used on namespaces of
 * our own prefix, so every process in them was started by a run of the same test.
 */
export async function removeNamespace(name: string): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', name], { allowFailure: true });
  for (const pid of pids.stdout.split('\n').filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run(['ip', 'netns', 'delete', name], { allowFailure: true });
}

/**
 * A network-namespace lab: namespaces named `PREFIX-NAME`, one bridge namespace standing
 * for the LAN switch, veth pairs created directly inside the namespaces (nothing ever
 * appears in the host namespace), daemons kept as direct children, and cleanup that also
 * runs on failure (`await using lab = await Lab.create('l2arp')`, or `after(() => lab.destroy())`).
 *
 * Addresses must come from the documentation plan (192.0.2.0/24, 2001:db8:0:1::/64, ...);
 * the lab gives namespaces no route out.
 */
export class Lab {
  readonly prefix: string;
  /** Short name → full namespace name, in creation order. */
  readonly #namespaces = new Map<string, string>();
  readonly #daemons = new Set<LabDaemon>();
  /** Bridge namespace short name → number of ports made so far (for port names). */
  readonly #ports = new Map<string, number>();
  /** Paths (files, directories, sockets) removed on destroy, recorded in the state file. */
  readonly #paths = new Set<string>();
  readonly #stateFile: string | undefined;
  readonly #detach: boolean;
  #destroyed = false;

  private constructor(prefix: string, stateFile: string | undefined, detach: boolean) {
    this.prefix = prefix;
    this.#stateFile = stateFile;
    this.#detach = detach;
  }

  /**
   * Makes an empty lab. Removes namespaces `PREFIX-*` left by a crashed run first, so use a
   * prefix unique to the test file (parallel test files must not share one).
   */
  static async create(prefix: string, options: LabOptions = {}): Promise<Lab> {
    if (!/^[a-z][a-z0-9]{1,11}$/.test(prefix)) {
      throw new Error(
        `lab: prefix "${prefix}" must be 2-12 lower-case letters/digits, starting with a letter`,
      );
    }
    for (const stale of await listNamespaces(prefix)) await removeNamespace(stale);
    const lab = new Lab(prefix, options.stateFile, options.detachDaemons ?? false);
    lab.#saveState();
    return lab;
  }

  /**
   * The state file (when the lab was created with one): every namespace, daemon PID (with
   * its start time, so a recycled PID is never killed) and path of this lab, rewritten on
   * each change, so `cleanupLabState` can undo a run whose process died.
   */
  #saveState(): void {
    if (this.#stateFile === undefined) return;
    const state: LabState = {
      prefix: this.prefix,
      owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 },
      namespaces: [...this.#namespaces.values()],
      daemons: [...this.#daemons].map((d) => ({
        pid: d.pid,
        startTime: d.startTime,
        argv: d.argv,
      })),
      paths: [...this.#paths],
    };
    writeLabState(this.#stateFile, state);
  }

  /** Registers a file or directory to delete on destroy (and in `lab down` after a crash). */
  track(path: string): void {
    this.#paths.add(path);
    this.#saveState();
  }

  /** Full namespace name of a short name. */
  ns(short: string): string {
    const full = this.#namespaces.get(short);
    if (full === undefined) throw new Error(`lab: no namespace "${short}" in lab ${this.prefix}`);
    return full;
  }

  /** Every namespace of this lab (full names). */
  namespaces(): string[] {
    return [...this.#namespaces.values()];
  }

  /**
   * Creates a host namespace with the lab sysctls (no DAD, no RA, IPv6 addresses kept on
   * link down) and `lo` up. `router: true` also turns forwarding on.
   */
  async addHost(short: string, options: { router?: boolean } = {}): Promise<string> {
    const name = await this.#addNamespace(short);
    const sysctls = options.router ? [...HOST_SYSCTLS, ...ROUTER_SYSCTLS] : [...HOST_SYSCTLS];
    await this.exec(short, ['sysctl', '-qw', ...sysctls]);
    return name;
  }

  /**
   * Creates a namespace holding the LAN switch: bridge `br0` with STP off, no forward
   * delay and no multicast snooping (snooping drops NDP multicast). IPv6 is off in it so
   * the switch itself stays silent.
   */
  async addBridge(short = 'lan'): Promise<string> {
    const name = await this.#addNamespace(short);
    await this.exec(short, [
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await this.ip(short, [
      'link',
      'add',
      'br0',
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
      'mcast_snooping',
      '0',
    ]);
    await this.ip(short, ['link', 'set', 'br0', 'up']);
    this.#ports.set(short, 0);
    return name;
  }

  /**
   * Links a host to the bridge with a veth pair created directly inside both namespaces,
   * brings both ends up and adds the addresses (without DAD).
   */
  async connect(
    host: string,
    options: LinkAddresses & { bridge?: string; ifName?: string; mac?: string } = {},
  ): Promise<LabLink> {
    const bridge = options.bridge ?? 'lan';
    const ifName = options.ifName ?? 'eth0';
    const count = this.#ports.get(bridge);
    if (count === undefined) throw new Error(`lab: "${bridge}" is not a bridge namespace of this lab`);
    this.#ports.set(bridge, count + 1);
    const portName = `p${count}-${host}`.slice(0, 15);
    const add = ['link', 'add', ifName, 'netns', this.ns(host)];
    if (options.mac) add.push('address', options.mac);
    add.push('type', 'veth', 'peer', 'name', portName, 'netns', this.ns(bridge));
    await run(['ip', ...add]);
    await this.ip(bridge, ['link', 'set', portName, 'master', 'br0', 'up']);
    if (options.ipv4) await this.ip(host, ['addr', 'add', options.ipv4, 'dev', ifName]);
    if (options.ipv6) await this.ip(host, ['-6', 'addr', 'add', options.ipv6, 'dev', ifName, 'nodad']);
    await this.ip(host, ['link', 'set', ifName, 'up']);
    return { namespace: this.ns(host), ifName, portName, mac: await this.mac(host, ifName) };
  }

  /**
   * A point-to-point link between two hosts (a veth pair made directly inside both
   * namespaces, no bridge), both ends up, with the given addresses (without DAD).
   */
  async connectPair(
    a: { host: string; ifName: string } & LinkAddresses,
    b: { host: string; ifName: string } & LinkAddresses,
  ): Promise<void> {
    await run([
      'ip',
      'link',
      'add',
      a.ifName,
      'netns',
      this.ns(a.host),
      'type',
      'veth',
      'peer',
      'name',
      b.ifName,
      'netns',
      this.ns(b.host),
    ]);
    for (const end of [a, b]) {
      if (end.ipv4) await this.ip(end.host, ['addr', 'add', end.ipv4, 'dev', end.ifName]);
      if (end.ipv6) await this.ip(end.host, ['-6', 'addr', 'add', end.ipv6, 'dev', end.ifName, 'nodad']);
      await this.ip(end.host, ['link', 'set', end.ifName, 'up']);
    }
  }

  /** MAC address of an interface, lower-case. */
  async mac(host: string, ifName: string): Promise<string> {
    const { stdout } = await this.ip(host, ['-j', 'link', 'show', 'dev', ifName]);
    const [info] = JSON.parse(stdout) as { address?: string }[];
    if (!info?.address) throw new Error(`lab: no MAC for ${ifName} in ${this.ns(host)}`);
    return info.address.toLowerCase();
  }

  /**
   * The kernel's neighbour entry for `ip` in a namespace (`ip neigh`), or undefined when
   * there is none; `mac` is undefined while the entry is INCOMPLETE/FAILED.
   */
  async neighbour(
    host: string,
    ip: string,
  ): Promise<{ mac: string | undefined; state: string[] } | undefined> {
    const { stdout } = await this.ip(host, ['-j', 'neigh', 'show', 'to', ip]);
    const entries = JSON.parse(stdout || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
    const entry = entries[0];
    if (!entry) return undefined;
    return { mac: entry.lladdr?.toLowerCase(), state: entry.state ?? [] };
  }

  /** Cuts a link as a pulled cable would: the bridge port goes down, the host sees no carrier. */
  async cutLink(link: LabLink, bridge = 'lan'): Promise<void> {
    await this.ip(bridge, ['link', 'set', link.portName, 'down']);
  }

  /** Restores a link cut by {@link cutLink}. */
  async restoreLink(link: LabLink, bridge = 'lan'): Promise<void> {
    await this.ip(bridge, ['link', 'set', link.portName, 'up']);
  }

  /** `ip -n NS ARGS...`. */
  ip(short: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', '-n', this.ns(short), ...args], options);
  }

  /** Runs a command to completion inside a namespace; throws on failure unless `allowFailure`. */
  exec(short: string, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.ns(short), ...argv], options);
  }

  /**
   * Starts a long-running process inside a namespace. `ip netns exec` execs the command
   * itself, so the child's PID is the daemon's PID; stopping by that PID ends the daemon.
   */
  spawn(short: string, argv: readonly string[], options: SpawnOptions = {}): LabDaemon {
    const namespace = this.ns(short);
    return this.#start(namespace, ['ip', 'netns', 'exec', namespace, ...argv], options);
  }

  /**
   * Starts a long-running process in the host namespace (e.g. the controller, which talks to
   * the API server on the host's loopback), kept and stopped like namespace daemons.
   */
  spawnHost(argv: readonly string[], options: SpawnOptions = {}): LabDaemon {
    return this.#start('', argv, options);
  }

  #start(namespace: string, argv: readonly string[], options: SpawnOptions): LabDaemon {
    if (this.#destroyed) throw new Error('lab: already destroyed');
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('lab: empty command');
    const child = spawn(file, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      // Own process group: a Ctrl-C at the terminal reaches only us, and we stop the daemons
      // in order (speakers hand over, then the rest) instead of all dying at once.
      detached: this.#detach,
    });
    let output = '';
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    const append = (chunk: Buffer) => {
      log?.write(chunk);
      output += chunk.toString('utf8');
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.on('close', () => log?.end());
    const daemons = this.#daemons;
    const forget = (): void => {
      if (daemons.delete(daemon)) this.#saveState();
    };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => {
        forget();
        resolve({ code, signal });
      });
      child.on('error', (error) => {
        output += `spawn error: ${error.message}\n`;
        forget();
        resolve({ code: -1, signal: null });
      });
    });
    const pid = child.pid ?? -1;
    const daemon: LabDaemon = {
      namespace,
      pid,
      startTime: pid > 0 ? (processStartTime(pid) ?? 0) : 0,
      argv: [...argv],
      child,
      exited,
      output: () => output,
      async stop(graceMs = 5_000) {
        return daemon.kill('SIGTERM', graceMs);
      },
      async kill(signal: NodeJS.Signals, graceMs = 5_000) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const result = await exited;
          clearTimeout(timer);
          return result;
        }
        return exited;
      },
    };
    this.#daemons.add(daemon);
    this.#saveState();
    return daemon;
  }

  /** Stops every daemon (waiting for each) and deletes every namespace. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await Promise.all([...this.#daemons].map((d) => d.stop(2_000)));
    for (const name of [...this.#namespaces.values()].reverse()) await removeNamespace(name);
    this.#namespaces.clear();
    for (const path of this.#paths) await rm(path, { recursive: true, force: true });
    this.#paths.clear();
    if (this.#stateFile !== undefined) await rm(this.#stateFile, { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  async #addNamespace(short: string): Promise<string> {
    if (this.#destroyed) throw new Error('lab: already destroyed');
    if (!NAME_RE.test(short)) throw new Error(`lab: namespace name "${short}" is not [a-z0-9-]`);
    if (this.#namespaces.has(short)) throw new Error(`lab: namespace "${short}" exists already`);
    const name = `${this.prefix}-${short}`;
    // Recorded before it exists: an `ip netns add` interrupted after it made the namespace
    // must still be removed (removing one that was never made is harmless).
    this.#namespaces.set(short, name);
    this.#saveState();
    await run(['ip', 'netns', 'add', name]);
    await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }
}

/**
 * An AbortSignal that aborts when `daemon` exits, with an error naming it and what it wrote:
 * for {@link waitFor}, so a wait on a process that died ends at once instead of at the timeout.
 */
export function untilExit(daemon: LabDaemon, name = `pid ${daemon.pid}`): AbortSignal {
  const exited = new AbortController();
  void daemon.exited.then(() => exited.abort(new Error(`lab: ${name} exited:\n${daemon.output()}`)));
  return exited.signal;
}

/** Resolves once `daemon` has printed text matching `pattern` (or throws if it exits first). */
export async function waitForOutput(daemon: LabDaemon, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  await waitFor(`output ${pattern} from pid ${daemon.pid}`, () => pattern.test(daemon.output()), {
    timeoutMs,
    signal: untilExit(daemon, `pid ${daemon.pid} (before ${pattern})`),
  });
}
