/**
 * RFC 9687 send hold timer as a pure tracker: is the peer taking what we send? Progress is
 * octets the peer acknowledged, derived from two counters the shell reads each tick: the octets
 * handed to the kernel so far and the octets the kernel still holds unacknowledged (SIOCOUTQ;
 * 0 when unknown, and then only the socket's own buffer moving counts). A peer that stops
 * reading closes its window, acknowledges nothing more, and is found out after the send hold
 * time, whether our output waits in node's buffer or only in the kernel's.
 */
export interface SendCounters {
  /** Octets handed to the kernel since the connection opened. */
  readonly handedBytes: number;
  /** Octets the kernel holds, not yet acknowledged by the peer. */
  readonly kernelQueuedBytes: number;
  /** Octets still waiting in node's buffer or our queue. */
  readonly waitingBytes: number;
}

export class SendProgress {
  private readonly sendHoldMs: number;
  private last: SendCounters = { handedBytes: 0, kernelQueuedBytes: 0, waitingBytes: 0 };
  /** Since when output has been waiting with nothing acknowledged; undefined when none waits. */
  private stalledSinceMs: number | undefined;

  constructor(sendHoldMs: number) {
    this.sendHoldMs = sendHoldMs;
  }

  /** Records the counters at `nowMs`; true when nothing has moved for the send hold time. */
  observe(nowMs: number, now: SendCounters): boolean {
    const acknowledged =
      now.handedBytes - this.last.handedBytes - (now.kernelQueuedBytes - this.last.kernelQueuedBytes);
    this.last = now;
    if (now.kernelQueuedBytes === 0 && now.waitingBytes === 0) {
      this.stalledSinceMs = undefined;
      return false;
    }
    if (acknowledged > 0 || this.stalledSinceMs === undefined) this.stalledSinceMs = nowMs;
    return nowMs - this.stalledSinceMs >= this.sendHoldMs;
  }
}
