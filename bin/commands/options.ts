import { Option } from 'commander';
import type { Logger } from 'pino';
import { CliError } from '../../shared/cli/errors.ts';
import { type EndpointsServer, serveEndpoints } from '../../shared/daemon/endpoints.ts';
import {
  formatHostPort,
  type HostPort,
  HostPortError,
  parseHostPort,
} from '../../shared/daemon/host-port.ts';
import { createLogger } from '../../shared/log/logger.ts';
import type { Registry } from '../../shared/metrics/metrics.ts';
import {
  DEFAULT_NETWORK_THREAD_PRIORITY,
  MAX_NETWORK_THREAD_PRIORITY,
} from '../../speaker/network-thread/scheduling.ts';
import type { GlobalOptions } from '../program.ts';

// Option parsing the commands share: one reading of HOST:PORT, regular expressions and the
// global log options, so every program accepts the same text and says the same about it.

/**
 * A `HOST:PORT` option (shared/daemon/host-port.ts), or a CliError naming the flag. With
 * `hostRequired`, `:PORT` (every address) is refused too.
 */
export function listenOption(flag: string, text: string, options: { hostRequired?: boolean } = {}): HostPort {
  let at: HostPort;
  try {
    at = parseHostPort(text);
  } catch (error) {
    if (!(error instanceof HostPortError)) throw error;
    throw new CliError(`${flag}: ${error.message}`, { hint: 'e.g. 127.0.0.1:7472 or [::1]:7472' });
  }
  if (options.hostRequired && at.host === undefined) {
    throw new CliError(`${flag}: "${text}" names no host`, { hint: `e.g. ${flag} 127.0.0.1${text}` });
  }
  return at;
}

/** A failure to listen on a `HOST:PORT` option, as a CliError; undefined for any other error. */
export function listenFailure(
  flag: string,
  text: string,
  error: unknown,
  hint?: string,
): CliError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    return new CliError(`cannot listen on ${flag} ${text}: ${code}`, {
      hint: hint ?? `choose another address with ${flag} HOST:PORT`,
    });
  }
  return undefined;
}

/**
 * The endpoints server (/metrics, /healthz, /readyz) of a command without a readiness of its
 * own, at its parsed --metrics-listen; a refused address becomes a CliError.
 */
export async function serveMetricsOption(
  at: HostPort,
  registry: Registry,
  log: Logger,
): Promise<EndpointsServer> {
  try {
    return await serveEndpoints({
      listen: at,
      registry,
      onError: (error) => log.warn({ err: error }, 'metrics endpoint error'),
    });
  } catch (error) {
    const text = at.host === undefined ? `:${at.port}` : formatHostPort(at.host, at.port);
    throw listenFailure('--metrics-listen', text, error) ?? error;
  }
}

/** An integer option from `min` to `max`, or a CliError naming the flag and the range. */
export function integerOption(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CliError(`${flag}: "${text}" is not an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * `--network-thread-priority <n>` (ADR 0014), for every command that runs the network thread
 * (`speaker`, `l2`): read it with {@link networkThreadPriorityOption}.
 */
export function networkThreadPriorityFlag(): Option {
  return new Option(
    '--network-thread-priority <n>',
    'SCHED_FIFO priority of the network thread (ARP/NDP; in the speaker also membership and BFD), so it never waits for a core behind ordinary tasks; needs CAP_SYS_NICE, else a warning and a short slice. 0: none',
  ).default(String(DEFAULT_NETWORK_THREAD_PRIORITY));
}

/** The value of {@link networkThreadPriorityFlag}: 0 (none) to 99, or a CliError naming the flag. */
export function networkThreadPriorityOption(text: string): number {
  return integerOption('--network-thread-priority', text, 0, MAX_NETWORK_THREAD_PRIORITY);
}

/** A regular expression option, or a CliError naming the flag and what is wrong. */
export function regexOption(flag: string, text: string | undefined): RegExp | undefined {
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message}`);
  }
}

/** The program's logger as --log-level and --log-format say. */
export function commandLogger(globals: GlobalOptions, name: string): Logger {
  return createLogger({
    level: globals.logLevel,
    ...(globals.logFormat ? { pretty: globals.logFormat === 'pretty' } : {}),
    name,
  });
}
