import type { OpenMessage } from '../codec/index.ts';
import type { FsmConfig } from './types.ts';

/** Test fixtures: a session configuration (eBGP, AS 65001 to 65000) and the peer's OPEN. */
export const CONFIG: FsmConfig = {
  localAs: 65001,
  peerAs: 65000,
  routerId: '192.0.2.10',
  holdTimeSec: 90,
  passive: false,
  connectRetryMs: 1000,
  connectRetryMaxMs: 60_000,
  families: [
    { afi: 1, safi: 1 },
    { afi: 2, safi: 1 },
  ],
  extendedMessage: true,
  jitterSeed: 42,
};

export const PEER_OPEN: OpenMessage = {
  type: 'open',
  version: 4,
  myAs: 65000,
  holdTimeSec: 30,
  bgpId: '192.0.2.1',
  capabilities: [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'route-refresh' },
    { kind: 'four-octet-as', asn: 65000 },
  ],
};
