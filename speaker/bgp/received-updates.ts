import type { Logger } from '../../shared/log/logger.ts';
import { attributeName, isTreatAsWithdraw, type UpdateMessage } from './codec/index.ts';
import { LogThrottle } from './log-throttle.ts';
import type { BgpMetrics } from './metrics.ts';

/** At most one log line per peer this often about UPDATEs kept despite errors (RFC 7606). */
const UPDATE_ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * What a session does with an UPDATE it receives: we announce and do not learn, so a received
 * UPDATE is validated (by the codec), counted and dropped. RFC 7606 outcomes that keep the session
 * are made visible: each error is counted by action and attribute, and a throttled warning names
 * them.
 */
export class ReceivedUpdates {
  private readonly peer: string;
  private readonly metrics: BgpMetrics | undefined;
  private readonly log: Logger;
  private readonly throttle = new LogThrottle(UPDATE_ERROR_LOG_INTERVAL_MS);

  constructor(peer: string, metrics: BgpMetrics | undefined, log: Logger) {
    this.peer = peer;
    this.metrics = metrics;
    this.log = log;
  }

  received(message: UpdateMessage, nowMs: number): void {
    const errors = message.errors ?? [];
    if (errors.length === 0) return;
    for (const error of errors) {
      // An error about a repeated attribute stands for every occurrence discarded (RFC 7606 §3 g).
      this.metrics?.updateErrors.inc(
        {
          peer: this.peer,
          action: error.action,
          attribute: error.attribute === undefined ? 'none' : attributeName(error.attribute),
        },
        error.occurrences,
      );
    }
    const line = this.throttle.take(nowMs);
    if (!line) return;
    const withdraw = isTreatAsWithdraw(message);
    this.log.warn(
      {
        action: withdraw ? 'treat-as-withdraw' : 'attribute-discard',
        errors: errors.map((e) => ({
          code: e.code,
          subcode: e.subcode,
          action: e.action,
          ...(e.attribute !== undefined ? { attribute: attributeName(e.attribute) } : {}),
          error: e.message,
        })),
        prefixes: message.nlri.length + (message.attributes.mpReach?.nlri.length ?? 0),
        ...(line.suppressed > 0 ? { suppressedSinceLastLine: line.suppressed } : {}),
      },
      withdraw
        ? 'UPDATE received with errors: treated as withdraw (RFC 7606)'
        : 'UPDATE received with errors: attributes discarded (RFC 7606)',
    );
  }
}
