import { isIPv4, isIPv6 } from 'node:net';
import type { Logger } from '../../shared/log/logger.ts';
import { Afi } from './codec/index.ts';
import { type FsmConfig, validateFsmConfig } from './fsm/index.ts';
import type { BgpMetrics } from './metrics.ts';
import type { SocketOptions } from './socket-options.ts';

/** One peer as the operator configures it (MetalLB's BGPPeer fields). */
export interface PeerConfig {
  readonly localAs: number;
  readonly peerAs: number;
  readonly peerAddress: string;
  readonly peerPort?: number;
  /** Local address to connect from (and to use as next hop). */
  readonly sourceAddress?: string;
  readonly routerId: string;
  readonly holdTimeSec?: number;
  readonly keepaliveSec?: number;
  /** TCP connect timeout. */
  readonly connectTimeMs?: number;
  /** eBGP multihop: TTL of our packets; direct eBGP uses 1, iBGP 255. */
  readonly ebgpMultiHop?: number;
  readonly passive?: boolean;
  /** TCP MD5 signature key (RFC 2385). */
  readonly password?: string;
  /** Offer graceful restart (RFC 4724) with this restart time. */
  readonly gracefulRestartTimeSec?: number;
  readonly extendedMessage?: boolean;
  /** Next hop overrides; default the session's local address. */
  readonly nextHopIpv4?: string;
  readonly nextHopIpv6?: string;
  readonly connectRetryMs?: number;
  readonly connectRetryMaxMs?: number;
  /**
   * Octets of output the session may hold for the peer (queued plus in the socket) before it is
   * reset with Cease / Out of Resources; default {@link DEFAULT_OUTPUT_BUDGET_BYTES}.
   */
  readonly outputBudgetBytes?: number;
}

/** Dependencies handed in by the program (no singletons). */
export interface SessionDeps {
  readonly logger: Logger;
  readonly metrics?: BgpMetrics;
  /** TCP MD5 and TTL on sockets (native addon); required when a password is set. */
  readonly socketOptions?: SocketOptions;
  readonly jitterSeed?: number;
  /** Whether this process has just started (RFC 4724 Restart State bit). */
  readonly restarting?: boolean;
}

/**
 * Output a session may hold for its peer. UPDATEs are produced only once the previous ones have
 * left, so this is never reached by what a peer asks for (refreshes coalesce); it bounds one
 * full table (roughly 1.5 million IPv6 prefixes) and stops a bug from growing without end.
 */
export const DEFAULT_OUTPUT_BUDGET_BYTES = 16 * 1024 * 1024;

/** The TTL our packets carry: 1 for direct eBGP, N with multihop, 255 on iBGP (RFC 4271 §5.1.3 practice). */
export function ttlFor(config: PeerConfig): number {
  if (config.localAs === config.peerAs) return 255;
  return config.ebgpMultiHop ?? 1;
}

/** FSM configuration for a peer; throws with every problem named. */
export function fsmConfigFor(
  config: PeerConfig,
  deps: Pick<SessionDeps, 'jitterSeed' | 'restarting'>,
): FsmConfig {
  const fsm: FsmConfig = {
    localAs: config.localAs,
    peerAs: config.peerAs,
    routerId: config.routerId,
    holdTimeSec: config.holdTimeSec ?? 90,
    ...(config.keepaliveSec !== undefined ? { keepaliveSec: config.keepaliveSec } : {}),
    passive: config.passive ?? false,
    connectRetryMs: config.connectRetryMs ?? 5_000,
    connectRetryMaxMs: config.connectRetryMaxMs ?? 120_000,
    families: [
      { afi: Afi.Ipv4, safi: 1 },
      { afi: Afi.Ipv6, safi: 1 },
    ],
    extendedMessage: config.extendedMessage ?? true,
    ...(config.gracefulRestartTimeSec !== undefined
      ? {
          gracefulRestart: {
            restartTimeSec: config.gracefulRestartTimeSec,
            restarting: deps.restarting ?? true,
          },
        }
      : {}),
    jitterSeed: deps.jitterSeed ?? 1,
  };
  const problems = validateFsmConfig(fsm);
  if (!isIPv4(config.peerAddress) && !isIPv6(config.peerAddress)) {
    problems.push(`peerAddress "${config.peerAddress}" is not an IP address`);
  }
  if (problems.length > 0) throw new Error(`BGP peer ${config.peerAddress}: ${problems.join('; ')}`);
  return fsm;
}
