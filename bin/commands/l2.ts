import { once } from 'node:events';
import { Command, Option } from 'commander';
import { NativeAddonError } from '../../native/index.ts';
import { CliError } from '../../shared/cli/errors.ts';
import type { EndpointsServer } from '../../shared/daemon/endpoints.ts';
import { Registry } from '../../shared/metrics/metrics.ts';
import { canonicalIp } from '../../speaker/l2/frames/addr.ts';
import { L2Announcer, L2AnnouncerError } from '../../speaker/l2/io/announcer.ts';
import { registerL2Metrics, registerLoopMetrics } from '../../speaker/l2/io/metrics.ts';
import type { GlobalOptions } from '../program.ts';
import {
  commandLogger,
  listenOption,
  networkThreadPriorityFlag,
  networkThreadPriorityOption,
  regexOption,
  serveMetricsOption,
} from './options.ts';

interface L2Options {
  announce: string;
  interface: string | undefined;
  excludeInterfaces: string | undefined;
  metricsListen: string | undefined;
  burstCount: string;
  burstIntervalMs: string;
  refreshIntervalSec: string;
  rateLimit: string;
  rateBurst: string;
  answerLimit: string;
  answerBurst: string;
  setArpSysctls: boolean;
  networkThreadPriority: string;
  debugBusyMainThreadMs: string | undefined;
}

function number(option: string, text: string, min: number): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    throw new CliError(`${option}: "${text}" is not a number >= ${min}`);
  }
  return value;
}

const PERMISSION_HINT =
  'run as root, or grant only CAP_NET_RAW: `setcap cap_net_raw+ep` on node, ' +
  '`setpriv --inh-caps=+net_raw --ambient-caps=+net_raw`, or Kubernetes securityContext.capabilities.add: [NET_RAW]';

/** `metalbeacon l2`: announce IPs by ARP/NDP from this host, without Kubernetes, until SIGTERM. */
export function l2Command(): Command {
  return new Command('l2')
    .description(
      'answer ARP/NDP for the given IPs on this host and announce them (gratuitous ARP / unsolicited NA) until SIGTERM; ' +
        'no Kubernetes, no election (a keepalived-like announcer)',
    )
    .requiredOption('--announce <ips>', 'comma-separated IPv4/IPv6 addresses to announce')
    .option(
      '--interface <names>',
      'comma-separated interfaces to announce on (default: every eligible interface)',
    )
    .option('--exclude-interfaces <regex>', 'interfaces never used unless named in --interface')
    .option('--metrics-listen <host:port>', 'serve /metrics, /healthz and /readyz at HOST:PORT')
    .option('--burst-count <n>', 'announcements sent on takeover, the first immediately', '5')
    .option('--burst-interval-ms <ms>', 'gap between the takeover announcements', '500')
    .option('--refresh-interval-sec <s>', 're-announce every S seconds (0: never)', '0')
    .option('--rate-limit <n>', 'answers per second per requester', '100')
    .option('--rate-burst <n>', 'answers a requester may get at once', '50')
    .option('--answer-limit <n>', 'answers per second to all requesters together', '2000')
    .option('--answer-burst <n>', 'answers all requesters together may get at once', '1000')
    .option(
      '--set-arp-sysctls',
      'if the kernel would answer ARP for an announced IP too, set arp_ignore=1 / arp_announce=2 instead of warning',
      false,
    )
    .addOption(networkThreadPriorityFlag())
    .addOption(
      new Option('--debug-busy-main-thread-ms <ms>', 'keep the main thread busy (benchmarks)').hideHelp(),
    )
    .action(async (options: L2Options, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions & L2Options>();
      const ips = options.announce
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ips.length === 0) throw new CliError('--announce: no IP address given');
      const canonical = ips.map((ip) => {
        const parsed = canonicalIp(ip);
        if (!parsed) throw new CliError(`--announce: "${ip}" is not an IPv4 or IPv6 address`);
        return parsed.text;
      });
      const interfaces = options.interface
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const exclude = regexOption('--exclude-interfaces', options.excludeInterfaces);
      const networkThreadPriority = networkThreadPriorityOption(options.networkThreadPriority);
      const metricsAt =
        options.metricsListen === undefined
          ? undefined
          : listenOption('--metrics-listen', options.metricsListen);
      const schedule = {
        burstCount: number('--burst-count', options.burstCount, 1),
        burstIntervalMs: number('--burst-interval-ms', options.burstIntervalMs, 1),
        refreshIntervalMs: number('--refresh-interval-sec', options.refreshIntervalSec, 0) * 1000,
      };
      const rateLimit = {
        perSecond: number('--rate-limit', options.rateLimit, 1),
        burst: number('--rate-burst', options.rateBurst, 1),
      };
      const overallRateLimit = {
        perSecond: number('--answer-limit', options.answerLimit, 1),
        burst: number('--answer-burst', options.answerBurst, 1),
      };
      const logger = commandLogger(globals, 'l2');

      let fatal: (error: Error) => void = () => {};
      const failed = new Promise<never>((_, reject) => {
        fatal = reject;
      });
      let announcer: L2Announcer;
      try {
        announcer = await L2Announcer.start({
          logger,
          schedule,
          rateLimit,
          overallRateLimit,
          ...(exclude ? { excludeInterfaces: exclude } : {}),
          kernelArp: options.setArpSysctls ? 'set' : 'warn',
          networkThreadPriority,
          onFatal: (error) => fatal(error),
        });
      } catch (error) {
        if (error instanceof L2AnnouncerError) throw new CliError(error.message);
        if (error instanceof NativeAddonError) throw new CliError(error.message, { hint: error.hint });
        throw error;
      }
      let server: EndpointsServer | undefined;
      let stopBusy: (() => void) | undefined;
      try {
        for (const ip of canonical) await announcer.announce(ip, interfaces);
        if (metricsAt) {
          const registry = new Registry();
          registerL2Metrics(registry, async () => (await announcer.snapshot()).counters);
          registerLoopMetrics(registry, () => announcer.loopWork());
          server = await serveMetricsOption(metricsAt, registry, logger);
        }
        const { active } = await announcer.snapshot();
        logger.info(
          {
            ips: canonical.join(','),
            active: active.map((a) => `${a.ip}@${a.interfaces.join('+')}`).join(' '),
          },
          'ready: announcing until SIGTERM',
        );
        if (active.length < canonical.length) {
          logger.warn(
            { interfaces: interfaces?.join(',') ?? 'any' },
            'some IPs have no usable interface yet',
          );
        }
        if (options.debugBusyMainThreadMs !== undefined) {
          stopBusy = busyMainThread(number('--debug-busy-main-thread-ms', options.debugBusyMainThreadMs, 1));
        }
        const signal = await Promise.race([
          failed,
          Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]).then(() => 'signal'),
        ]);
        logger.info({ reason: signal }, 'withdrawing and stopping');
      } catch (error) {
        if (error instanceof L2AnnouncerError && error.code === 'permission') {
          throw new CliError(error.message, { hint: PERMISSION_HINT });
        }
        if (error instanceof L2AnnouncerError) throw new CliError(error.message);
        throw error;
      } finally {
        stopBusy?.();
        await server?.close();
        await announcer.close();
        logger.flush();
      }
    });
}

/** Blocks the main thread in slices of `sliceMs`, yielding briefly between them (benchmarks only); returns a stop function. */
function busyMainThread(sliceMs: number): () => void {
  let stopped = false;
  const spin = () => {
    if (stopped) return;
    const end = performance.now() + sliceMs;
    while (performance.now() < end) {
      // burn
    }
    setImmediate(spin);
  };
  setImmediate(spin);
  return () => {
    stopped = true;
  };
}
