import type { Command } from 'commander';
import { CliError } from '../../shared/cli/errors.ts';
import { bfdProfileRange, defaultBfdProfile } from '../../shared/config/bfd-profiles.ts';
import type { BfdProfileConfig } from '../../shared/config/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { specFromProfile } from '../../speaker/bfd/engine/index.ts';
import { BfdBgpBinding } from '../../speaker/bfd/io/bgp-binding.ts';
import { WorkerBfd } from '../../speaker/bfd/io/worker-bfd.ts';
import type { BgpSession } from '../../speaker/bgp/session.ts';

// `metalbeacon bgp --bfd`: BFD with every peer, on a network thread of its own, driving the BGP
// sessions as in the speaker (speaker/bfd/io). Same names, ranges and defaults as BFDProfile.

/** The --bfd options as commander hands them over. */
export interface BgpBfdOptions {
  bfd: boolean;
  bfdReceiveInterval: string | undefined;
  bfdTransmitInterval: string | undefined;
  bfdDetectMultiplier: string | undefined;
  bfdMinimumTtl: string | undefined;
  bfdPassive: boolean;
}

/** Adds the --bfd options to the bgp command. */
export function addBfdOptions(command: Command): Command {
  const defaults = defaultBfdProfile('bgp');
  const range = (field: Parameters<typeof bfdProfileRange>[0]) => bfdProfileRange(field).join('..');
  return command
    .option('--bfd', 'run BFD (RFC 5880) with every peer: a BFD Down resets its BGP session at once', false)
    .option(
      '--bfd-receive-interval <ms>',
      `BFD required min RX interval, ${range('receiveInterval')} (default ${defaults.receiveIntervalMs})`,
    )
    .option(
      '--bfd-transmit-interval <ms>',
      `BFD desired min TX interval, ${range('transmitInterval')} (default ${defaults.transmitIntervalMs})`,
    )
    .option(
      '--bfd-detect-multiplier <n>',
      `BFD detect multiplier, ${range('detectMultiplier')} (default ${defaults.detectMultiplier})`,
    )
    .option(
      '--bfd-minimum-ttl <n>',
      `with --ebgp-multihop: least TTL of a received BFD packet, ${range('minimumTtl')} (default ${defaults.minimumTtl})`,
    )
    .option('--bfd-passive', 'BFD passive role: wait for the peer to speak first', false);
}

/** The BFD profile the options ask for; undefined without --bfd. A --bfd-* option alone is an error. */
export function bfdProfileFromOptions(options: BgpBfdOptions): BfdProfileConfig | undefined {
  const given = (
    [
      ['--bfd-receive-interval', options.bfdReceiveInterval],
      ['--bfd-transmit-interval', options.bfdTransmitInterval],
      ['--bfd-detect-multiplier', options.bfdDetectMultiplier],
      ['--bfd-minimum-ttl', options.bfdMinimumTtl],
      ['--bfd-passive', options.bfdPassive ? 'true' : undefined],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (!options.bfd) {
    if (given.length > 0) throw new CliError(`${given[0]![0]} needs --bfd`);
    return undefined;
  }
  const defaults = defaultBfdProfile('bgp');
  const value = (
    flag: string,
    text: string | undefined,
    field: Parameters<typeof bfdProfileRange>[0],
    fallback: number,
  ) => {
    if (text === undefined) return fallback;
    const [min, max] = bfdProfileRange(field);
    const v = Number(text);
    if (!/^\d+$/.test(text) || v < min || v > max)
      throw new CliError(`${flag}: "${text}" is not an integer ${min}..${max}`);
    return v;
  };
  return {
    ...defaults,
    receiveIntervalMs: value(
      '--bfd-receive-interval',
      options.bfdReceiveInterval,
      'receiveInterval',
      defaults.receiveIntervalMs,
    ),
    transmitIntervalMs: value(
      '--bfd-transmit-interval',
      options.bfdTransmitInterval,
      'transmitInterval',
      defaults.transmitIntervalMs,
    ),
    detectMultiplier: value(
      '--bfd-detect-multiplier',
      options.bfdDetectMultiplier,
      'detectMultiplier',
      defaults.detectMultiplier,
    ),
    minimumTtl: value('--bfd-minimum-ttl', options.bfdMinimumTtl, 'minimumTtl', defaults.minimumTtl),
    passiveMode: options.bfdPassive,
  };
}

/** BFD running for the bgp command's sessions. */
export interface BgpBfd {
  /** Rejects when the network thread running BFD dies. */
  readonly failed: Promise<never>;
  /** Every BFD session goes AdminDown and ends. */
  close(): Promise<void>;
}

/**
 * Starts BFD with every session's peer (keyed by peer address; from `sourceAddress` when given,
 * else from the address the route to the peer chooses), multihop with --ebgp-multihop.
 */
export function startBgpBfd(options: {
  readonly sessions: readonly BgpSession[];
  readonly profile: BfdProfileConfig;
  readonly multihop: boolean;
  readonly sourceAddress: string | undefined;
  readonly logger: Logger;
}): BgpBfd {
  const bfd = new WorkerBfd({ logger: options.logger.child({ component: 'bfd' }) });
  const binding = new BfdBgpBinding(bfd);
  const failed = new Promise<never>((_, reject) => {
    bfd.on('error', (error) => reject(new CliError(`BFD stopped: ${error.message}`)));
  });
  failed.catch(() => {}); // observed by the caller's race; never unhandled here
  const specs = options.sessions.map((session) => {
    binding.bind(session.peer, session);
    return specFromProfile(
      {
        key: session.peer,
        peerAddress: session.peer,
        ...(options.sourceAddress !== undefined ? { localAddress: options.sourceAddress } : {}),
      },
      options.profile,
      options.multihop,
    );
  });
  const problems = bfd.setSessions(specs);
  if (problems.length > 0) throw new CliError(problems.join('; '));
  return { failed, close: () => bfd.close() };
}
