/**
 * How each lane configures the speaker's side of its session. Lanes differ where the verdicts
 * depend on our configuration: eBGP or iBGP (LOCAL_PREF, confederation segments, RFC 6286 BGP
 * Identifier), a 4-octet AS of our own (AS_TRANS in our OPEN), the hold time we propose (0
 * turns the peer's 0 acceptable), extended messages offered or not, graceful restart offered.
 */
import type { LaneFacts } from './oracle.ts';

export interface LaneConfig {
  readonly localAs: number;
  readonly peerAs: number;
  readonly routerId: string;
  readonly holdTimeSec: number;
  readonly extendedMessage: boolean;
  readonly gracefulRestartTimeSec?: number;
}

export const LANE_CONFIGS: readonly LaneConfig[] = [
  { localAs: 65001, peerAs: 65000, routerId: '192.0.2.101', holdTimeSec: 90, extendedMessage: true },
  {
    localAs: 65001,
    peerAs: 65001,
    routerId: '192.0.2.102',
    holdTimeSec: 90,
    extendedMessage: true,
    gracefulRestartTimeSec: 120,
  },
  {
    localAs: 4200000001,
    peerAs: 4200000000,
    routerId: '192.0.2.103',
    holdTimeSec: 60,
    extendedMessage: true,
  },
  { localAs: 65001, peerAs: 65000, routerId: '192.0.2.104', holdTimeSec: 0, extendedMessage: false },
  {
    localAs: 4200000001,
    peerAs: 65000,
    routerId: '192.0.2.105',
    holdTimeSec: 180,
    extendedMessage: true,
    gracefulRestartTimeSec: 60,
  },
  { localAs: 4200000002, peerAs: 4200000002, routerId: '192.0.2.106', holdTimeSec: 0, extendedMessage: true },
  { localAs: 65002, peerAs: 4200000000, routerId: '192.0.2.107', holdTimeSec: 90, extendedMessage: false },
  { localAs: 65003, peerAs: 65003, routerId: '192.0.2.108', holdTimeSec: 30, extendedMessage: true },
];

export function laneFacts(config: LaneConfig): LaneFacts {
  return {
    external: config.localAs !== config.peerAs,
    holdTimeSec: config.holdTimeSec,
    localAs: config.localAs,
    peerAs: config.peerAs,
    routerId: config.routerId.split('.').reduce((n, octet) => n * 256 + Number(octet), 0),
  };
}
