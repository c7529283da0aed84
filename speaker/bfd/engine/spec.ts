import type { BfdProfileConfig } from '../../../shared/config/types.ts';
import { formatIp, parseIp } from '../../../shared/net/ip.ts';
import { BfdPort, GTSM_TTL, type HopPolicy } from '../codec/index.ts';
import { type BfdTimers, timersFromProfile } from '../fsm/index.ts';

/**
 * One BFD session as its user asks for it: what the engine (speaker/bfd/io) runs. Sessions exist
 * only because a spec names them, never because a packet arrived, so their number is the number
 * of configured peers whatever the network sends.
 */
export interface BfdSessionSpec {
  /** Names the session for its whole life (the BGP peer it serves); unique. */
  readonly key: string;
  readonly peerAddress: string;
  /** Local address to send from and receive on; undefined: the route to the peer chooses. */
  readonly localAddress?: string;
  /** RFC 5883 multihop (UDP 4784, TTL at least minimumTtl); otherwise RFC 5881 single hop. */
  readonly multihop: boolean;
  /** Multihop only: the least TTL / hop limit a received packet may carry. */
  readonly minimumTtl: number;
  readonly timers: BfdTimers;
}

/** A spec checked and with its addresses in canonical text (as received packets name them). */
export interface CheckedSpec extends BfdSessionSpec {
  readonly family: 4 | 6;
}

/** The session of a BGP peer with a BFDProfile: single hop unless the peer is eBGP multihop. */
export function specFromProfile(
  peer: { readonly key: string; readonly peerAddress: string; readonly localAddress?: string },
  profile: BfdProfileConfig,
  multihop: boolean,
): BfdSessionSpec {
  return {
    key: peer.key,
    peerAddress: peer.peerAddress,
    ...(peer.localAddress !== undefined ? { localAddress: peer.localAddress } : {}),
    multihop,
    minimumTtl: profile.minimumTtl,
    timers: timersFromProfile(profile),
  };
}

/** The TTL rule of a session (RFC 5881 §5, RFC 5883 §5). */
export function hopPolicy(spec: BfdSessionSpec): HopPolicy {
  return spec.multihop ? { kind: 'multihop', minimumTtl: spec.minimumTtl } : { kind: 'single-hop' };
}

/** UDP destination port of a session's packets. */
export function destinationPort(spec: BfdSessionSpec): number {
  return spec.multihop ? BfdPort.Multihop : BfdPort.SingleHop;
}

/** TTL / hop limit of every packet we send: 255, so both GTSM and any minimumTtl pass. */
export const SEND_TTL = GTSM_TTL;

const U32_MAX = 0xffffffff;

/** Checks a spec; the problems name the session and the field. */
export function checkSpec(spec: BfdSessionSpec): { spec: CheckedSpec } | { problems: string[] } {
  const problems: string[] = [];
  const where = `BFD session "${spec.key}"`;
  if (typeof spec.key !== 'string' || spec.key === '') problems.push('BFD session: key is empty');
  const peer = typeof spec.peerAddress === 'string' ? parseIp(spec.peerAddress) : undefined;
  if (!peer) problems.push(`${where}: peerAddress "${spec.peerAddress}" is not an IP address`);
  const local = spec.localAddress === undefined ? undefined : parseIp(spec.localAddress);
  if (spec.localAddress !== undefined && !local) {
    problems.push(`${where}: localAddress "${spec.localAddress}" is not an IP address`);
  }
  if (peer && local && peer.family !== local.family) {
    problems.push(
      `${where}: localAddress ${spec.localAddress} and peerAddress ${spec.peerAddress} differ in family`,
    );
  }
  const whole = (field: string, v: unknown, min: number, max: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push(`${where}: ${field} ${String(v)} must be a whole number from ${min} to ${max}`);
  };
  whole('minimumTtl', spec.minimumTtl, 1, 255);
  whole('desiredMinTxUs', spec.timers?.desiredMinTxUs, 1, U32_MAX);
  whole('requiredMinRxUs', spec.timers?.requiredMinRxUs, 0, U32_MAX);
  whole('detectMult', spec.timers?.detectMult, 1, 255);
  if (problems.length > 0 || !peer) return { problems };
  return {
    spec: {
      ...spec,
      peerAddress: formatIp(peer),
      ...(local ? { localAddress: formatIp(local) } : {}),
      family: peer.family === 'IPv4' ? 4 : 6,
    },
  };
}

/** Whether two specs are the same session (otherwise the old one ends and a new one starts). */
export function sameSession(a: BfdSessionSpec, b: BfdSessionSpec): boolean {
  return a.peerAddress === b.peerAddress && a.localAddress === b.localAddress && a.multihop === b.multihop;
}

/** Whether the timers or role differ (a running session takes them through a Poll Sequence). */
export function timersChanged(a: BfdTimers, b: BfdTimers): boolean {
  return (
    a.desiredMinTxUs !== b.desiredMinTxUs ||
    a.requiredMinRxUs !== b.requiredMinRxUs ||
    a.detectMult !== b.detectMult ||
    a.passive !== b.passive
  );
}
