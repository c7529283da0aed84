import { parseAddress } from '../codec/index.ts';
import type { FsmConfig } from './types.ts';

/** Checks a configuration; returns the problems, each naming the field. */
export function validateFsmConfig(config: FsmConfig): string[] {
  const problems: string[] = [];
  const asn = (v: number) => Number.isInteger(v) && v >= 1 && v <= 0xffffffff;
  if (!asn(config.localAs)) problems.push(`localAs ${config.localAs} is not an AS number 1..4294967295`);
  if (!asn(config.peerAs)) problems.push(`peerAs ${config.peerAs} is not an AS number 1..4294967295`);
  const id = parseAddress(config.routerId);
  if (id?.family !== 'IPv4' || id.bytes.every((b) => b === 0)) {
    problems.push(`routerId "${config.routerId}" is not a non-zero IPv4 address`);
  }
  const h = config.holdTimeSec;
  if (!Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2) {
    problems.push(`holdTime ${h} s must be 0 or 3..65535 (RFC 4271 §4.2)`);
  }
  if (
    config.keepaliveSec !== undefined &&
    (!Number.isInteger(config.keepaliveSec) || config.keepaliveSec < 1)
  ) {
    problems.push(`keepaliveTime ${config.keepaliveSec} s must be at least 1 s`);
  }
  if (!(config.connectRetryMs > 0) || config.connectRetryMaxMs < config.connectRetryMs) {
    problems.push('connectRetry must be positive and not above its maximum');
  }
  return problems;
}
