import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Command, Option } from 'commander';
import { CliError } from '../../shared/cli/errors.ts';
import type { EndpointsServer } from '../../shared/daemon/endpoints.ts';
import { Registry } from '../../shared/metrics/metrics.ts';
import { type LargeCommunity, parseCommunity, parseLargeCommunity } from '../../speaker/bgp/codec/index.ts';
import { BgpListener } from '../../speaker/bgp/listener.ts';
import { BgpMetrics } from '../../speaker/bgp/metrics.ts';
import type { PeerConfig } from '../../speaker/bgp/peer-config.ts';
import {
  addPrefixList,
  EncodedPrefixMap,
  type PrefixListError,
  type RouteAttributes,
} from '../../speaker/bgp/rib/index.ts';
import { BgpSession } from '../../speaker/bgp/session.ts';
import type { SocketOptions } from '../../speaker/bgp/socket-options.ts';
import type { GlobalOptions } from '../program.ts';
import {
  addBfdOptions,
  type BgpBfd,
  type BgpBfdOptions,
  bfdProfileFromOptions,
  startBgpBfd,
} from './bgp-bfd.ts';
import { commandLogger, listenOption, serveMetricsOption } from './options.ts';

interface BgpOptions extends BgpBfdOptions {
  localAs: string;
  peer: string[];
  peerAs: string;
  peerPort: string;
  routerId: string | undefined;
  holdTime: string;
  keepaliveTime: string | undefined;
  connectTime: string;
  connectRetry: string;
  connectRetryMax: string;
  password: string | undefined;
  passwordFile: string | undefined;
  announce: string[];
  announceFile: string | undefined;
  community: string[];
  largeCommunity: string[];
  localPref: string | undefined;
  med: string | undefined;
  nextHop: string[];
  sourceAddress: string | undefined;
  ebgpMultihop: string | undefined;
  passive: boolean;
  listenPort: string;
  listenAddress: string | undefined;
  gracefulRestartTime: string | undefined;
  drainTime: string;
  shutdownMessage: string;
  metricsListen: string | undefined;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function integer(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliError(`${option}: "${text}" is not an integer ${min}..${max}`);
  }
  return value;
}

/** The CLI error for a bad prefix of a list read from `where` (the line when it has several). */
function prefixListError(where: string, text: string, error: PrefixListError): CliError {
  return new CliError(`${where}${text.includes('\n') ? ` line ${error.line}` : ''}: ${error.message}`);
}

/** Prefixes of a comma/whitespace separated list or an announce file (one per line, `#` comments). */
export function parsePrefixList(text: string, where: string): string[] {
  const prefixes = new Map<string, true>();
  const error = addPrefixList(text, prefixes, true);
  if (error) throw prefixListError(where, text, error);
  return [...prefixes.keys()];
}

/**
 * The password in `file`: its content without one trailing newline (what `echo` or an editor
 * leaves), which must not be empty. A file others may read is allowed, with a warning on stderr.
 */
export async function readPasswordFile(file: string): Promise<string> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (error) {
    throw new CliError(`--password-file: cannot read ${file}: ${(error as Error).message}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new CliError(`--password-file: ${file} is empty`);
  if (/[\r\n]/.test(password)) {
    throw new CliError(`--password-file: ${file} has more than one line; the password is the whole file`);
  }
  if ((mode & 0o077) !== 0) {
    process.stderr.write(
      `warning: --password-file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it\n`,
    );
  }
  return password;
}

/** The router ID when none is configured: the first IPv4 address of this node (RFC 6286 needs one). */
function defaultRouterId(): string {
  for (const entries of Object.values(networkInterfaces())) {
    for (const e of entries ?? []) if (e.family === 'IPv4' && !e.internal) return e.address;
  }
  throw new CliError('no IPv4 address on this node to use as BGP router ID', { hint: 'set --router-id' });
}

/**
 * TCP MD5 / TTL support from the native addon. Required with a password; otherwise used when
 * built (so direct eBGP goes out with TTL 1), and without it the kernel's default TTL is used.
 */
async function loadSocketOptions(required: boolean): Promise<SocketOptions | undefined> {
  try {
    const { nativeSocketOptions } = await import('../../speaker/bgp/native-socket.ts');
    return nativeSocketOptions();
  } catch (error) {
    if (!required) return undefined;
    throw new CliError(`TCP MD5 needs the native addon: ${(error as Error).message}`, {
      hint: 'build it with `npm run build:native` (or npm ci)',
    });
  }
}

/**
 * `metalbeacon bgp`: our BGP speaker without Kubernetes, announcing prefixes until SIGTERM.
 * `--password` is gone (argv is readable by every local user: ps, /proc/PID/cmdline); it stays
 * as a hidden option only to be refused with why, instead of "unknown option".
 */
export function bgpCommand(): Command {
  return addBfdOptions(new Command('bgp'))
    .description(
      'run BGP sessions and announce prefixes without Kubernetes until SIGTERM (then graceful shutdown); ' +
        'SIGHUP re-reads --announce-file and sends only the difference',
    )
    .requiredOption('--local-as <asn>', 'our AS number (1..4294967295)')
    .requiredOption('--peer <address>', 'peer address (repeatable)', collect, [])
    .requiredOption('--peer-as <asn>', 'the peer AS number (same as --local-as for iBGP)')
    .option('--peer-port <port>', 'peer TCP port', '179')
    .option('--router-id <ipv4>', 'BGP identifier (default: an IPv4 address of this node)')
    .option('--hold-time <sec>', 'hold time to propose: 0 or 3..65535', '90')
    .option(
      '--keepalive-time <sec>',
      'keepalive interval, at most a third of the negotiated hold time (the default)',
    )
    .option('--connect-time <sec>', 'TCP connect timeout', '5')
    .option('--connect-retry <sec>', 'first reconnect delay; doubles per failure', '5')
    .option('--connect-retry-max <sec>', 'reconnect delay cap', '120')
    .option(
      '--password-file <file>',
      'TCP MD5 signature password (RFC 2385): the file content, one trailing newline removed',
    )
    .addOption(new Option('--password <text>').hideHelp())
    .option('--announce <prefixes>', 'comma-separated prefixes to announce (repeatable)', collect, [])
    .option('--announce-file <file>', 'file with one prefix per line (# comments); re-read on SIGHUP')
    .option('--community <c>', 'community AS:VALUE or well-known name (repeatable)', collect, [])
    .option('--large-community <c>', 'large community GLOBAL:LOCAL1:LOCAL2 (repeatable)', collect, [])
    .option('--local-pref <n>', 'LOCAL_PREF for iBGP peers (default 100)')
    .option('--med <n>', 'MULTI_EXIT_DISC')
    .option(
      '--next-hop <address>',
      'next hop for IPv4 or IPv6 routes (default: the session address; repeatable)',
      collect,
      [],
    )
    .option('--source-address <address>', 'local address to connect from')
    .option('--ebgp-multihop <ttl>', 'TTL for eBGP to a peer that is not directly connected (default 1)')
    .option('--passive', 'only accept connections from the peers, never connect', false)
    .option('--listen-port <port>', 'port to accept connections on (0: do not listen)', '179')
    .option('--listen-address <address>', 'address to accept connections on (default: all)')
    .option('--graceful-restart-time <sec>', 'offer graceful restart (RFC 4724) with this restart time')
    .option('--drain-time <sec>', 'graceful shutdown: time between GRACEFUL_SHUTDOWN and closing', '5')
    .option('--shutdown-message <text>', 'RFC 9003 message sent on shutdown', 'metalbeacon bgp shutting down')
    .option('--metrics-listen <host:port>', 'serve /metrics, /healthz and /readyz at HOST:PORT')
    .action(async (options: BgpOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & BgpOptions>();
      const localAs = integer('--local-as', options.localAs, 1, 0xffffffff);
      const peerAs = integer('--peer-as', options.peerAs, 1, 0xffffffff);
      const holdTimeSec = integer('--hold-time', options.holdTime, 0, 65535);
      if (holdTimeSec === 1 || holdTimeSec === 2)
        throw new CliError('--hold-time: must be 0 or at least 3 (RFC 4271 §4.2)');
      const metricsAt =
        options.metricsListen === undefined
          ? undefined
          : listenOption('--metrics-listen', options.metricsListen);
      const bfdProfile = bfdProfileFromOptions(options);
      const routerId = options.routerId ?? defaultRouterId();
      if (!isIPv4(routerId) || routerId === '0.0.0.0')
        throw new CliError(`--router-id: "${routerId}" is not a non-zero IPv4 address`);
      for (const peer of options.peer)
        if (!isIPv4(peer) && !isIPv6(peer)) throw new CliError(`--peer: "${peer}" is not an IP address`);
      const communities = options.community.map((c) => {
        const v = parseCommunity(c);
        if (typeof v === 'string') throw new CliError(`--community: ${v}`);
        return v;
      });
      const largeCommunities: LargeCommunity[] = options.largeCommunity.map((c) => {
        const v = parseLargeCommunity(c);
        if (typeof v === 'string') throw new CliError(`--large-community: ${v}`);
        return v;
      });
      const nextHopIpv4 = options.nextHop.find((a) => isIPv4(a));
      const nextHopIpv6 = options.nextHop.find((a) => isIPv6(a));
      for (const a of options.nextHop)
        if (!isIPv4(a) && !isIPv6(a)) throw new CliError(`--next-hop: "${a}" is not an IP address`);
      const attributes: RouteAttributes = {
        ...(communities.length > 0 ? { communities } : {}),
        ...(largeCommunities.length > 0 ? { largeCommunities } : {}),
        ...(options.localPref !== undefined
          ? { localPref: integer('--local-pref', options.localPref, 0, 0xffffffff) }
          : {}),
        ...(options.med !== undefined ? { med: integer('--med', options.med, 0, 0xffffffff) } : {}),
      };
      // Checked now, so a bad --announce fails before anything starts; read into each desired set.
      for (const list of options.announce) parsePrefixList(list, '--announce');
      // An EncodedPrefixMap: the RIB-out copies the NLRI the reading computed (rib/encoded-prefix-map.ts).
      const readDesired = async (): Promise<Map<string, RouteAttributes>> => {
        const desired = new EncodedPrefixMap<RouteAttributes>();
        for (const list of options.announce) addPrefixList(list, desired, attributes);
        if (options.announceFile !== undefined) {
          let text: string;
          try {
            text = await readFile(options.announceFile, 'utf8');
          } catch (error) {
            throw new CliError(
              `--announce-file: cannot read ${options.announceFile}: ${(error as Error).message}`,
            );
          }
          // Straight into the map: no array of 100k prefixes (nor a spread of one) on the way.
          const error = addPrefixList(text, desired, attributes);
          if (error) throw prefixListError(options.announceFile, text, error);
        }
        return desired;
      };
      if (options.password !== undefined) {
        throw new CliError(
          '--password is not accepted: a password on the command line is visible to every local user (ps, /proc/PID/cmdline)',
          { hint: 'write it to a file only you can read and pass --password-file FILE' },
        );
      }
      const password =
        options.passwordFile === undefined ? undefined : await readPasswordFile(options.passwordFile);
      const socketOptions = await loadSocketOptions(password !== undefined);
      const logger = commandLogger(globals, 'bgp');
      if (!socketOptions) logger.warn('native addon not built: TTL for eBGP is left at the kernel default');
      const registry = new Registry();
      const metrics = new BgpMetrics(registry);
      const sessions = options.peer.map((peerAddress, index) => {
        const config: PeerConfig = {
          localAs,
          peerAs,
          peerAddress,
          peerPort: integer('--peer-port', options.peerPort, 1, 65535),
          routerId,
          holdTimeSec,
          ...(options.keepaliveTime !== undefined
            ? { keepaliveSec: integer('--keepalive-time', options.keepaliveTime, 1, 65535) }
            : {}),
          connectTimeMs: integer('--connect-time', options.connectTime, 1, 3600) * 1000,
          connectRetryMs: integer('--connect-retry', options.connectRetry, 1, 3600) * 1000,
          connectRetryMaxMs: integer('--connect-retry-max', options.connectRetryMax, 1, 86400) * 1000,
          passive: options.passive,
          ...(password !== undefined ? { password } : {}),
          ...(options.sourceAddress !== undefined ? { sourceAddress: options.sourceAddress } : {}),
          ...(options.ebgpMultihop !== undefined
            ? { ebgpMultiHop: integer('--ebgp-multihop', options.ebgpMultihop, 1, 255) }
            : {}),
          ...(options.gracefulRestartTime !== undefined
            ? {
                gracefulRestartTimeSec: integer(
                  '--graceful-restart-time',
                  options.gracefulRestartTime,
                  0,
                  4095,
                ),
              }
            : {}),
          ...(nextHopIpv4 ? { nextHopIpv4 } : {}),
          ...(nextHopIpv6 ? { nextHopIpv6 } : {}),
        };
        try {
          return new BgpSession(config, {
            logger,
            metrics,
            ...(socketOptions ? { socketOptions } : {}),
            jitterSeed: (Date.now() ^ (index * 7919)) >>> 0,
          });
        } catch (error) {
          throw new CliError((error as Error).message);
        }
      });
      let desired = await readDesired();
      for (const s of sessions) s.setRoutes(desired);

      const listenPort = integer('--listen-port', options.listenPort, 0, 65535);
      const listener =
        listenPort > 0 ? new BgpListener({ logger, ...(socketOptions ? { socketOptions } : {}) }) : undefined;
      let server: EndpointsServer | undefined;
      let bfd: BgpBfd | undefined;
      try {
        if (listener) {
          for (const s of sessions) listener.add(s);
          try {
            await listener.listen(listenPort, options.listenAddress);
          } catch (error) {
            throw new CliError(`cannot listen on port ${listenPort}: ${(error as Error).message}`, {
              hint: 'another BGP daemon may hold the port; use --listen-port 0 or another port',
            });
          }
        } else if (options.passive) {
          throw new CliError('--passive needs a listener: --listen-port must not be 0');
        }
        if (metricsAt) {
          server = await serveMetricsOption(metricsAt, registry, logger);
        }
        if (bfdProfile) {
          bfd = startBgpBfd({
            sessions,
            profile: bfdProfile,
            multihop: options.ebgpMultihop !== undefined,
            sourceAddress: options.sourceAddress,
            logger,
          });
        }
        for (const s of sessions) s.start();
        logger.info(
          { peers: options.peer.join(','), prefixes: desired.size, routerId },
          'ready: announcing until SIGTERM',
        );

        const onHup = () => {
          readDesired().then(
            (next) => {
              desired = next;
              for (const s of sessions) s.setRoutes(desired);
              logger.info({ prefixes: desired.size }, 'SIGHUP: announce file re-read');
            },
            (error: unknown) =>
              logger.error({ error: (error as Error).message }, 'SIGHUP: announce file not applied'),
          );
        };
        process.on('SIGHUP', onHup);
        await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT'), ...(bfd ? [bfd.failed] : [])]);
        process.off('SIGHUP', onHup);
        const drainMs = Number(options.drainTime) * 1000;
        logger.info({ drainMs }, 'graceful shutdown');
        await Promise.all(sessions.map((s) => s.gracefulShutdown(drainMs, options.shutdownMessage)));
      } finally {
        for (const s of sessions) s.abort();
        await bfd?.close();
        await listener?.close();
        await server?.close();
        logger.flush();
      }
    });
}
