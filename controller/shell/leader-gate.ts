import type { CallOptions, KubeClient } from '../../shared/k8s/client.ts';

/** A write refused because this replica does not lead (any more). */
export class NotLeadingError extends Error {
  readonly code = 'ERR_NOT_LEADING';
  constructor(identity: string) {
    super(`not written: ${identity} does not hold the leader lease`);
    this.name = 'NotLeadingError';
  }
}

/**
 * Says whether a write may be sent now: `callOptions()` throws NotLeadingError when it may not,
 * else gives the limits that end it with leadership (a signal aborted when leadership ends).
 */
export interface WriteGate {
  callOptions(): CallOptions;
}

/** The gate of a controller without leader election: it always writes, with the client's limits. */
export const OPEN_GATE: WriteGate = { callOptions: () => ({}) };

/** The controller's writes (Service status, pool status, Events). */
export type LeaderWrites = Pick<KubeClient, 'create' | 'patch'>;

/**
 * The client's writes behind the gate: each is checked when it is sent, not when it was decided,
 * and ends when leadership ends, so no write of this replica outlives its leadership.
 */
export function gatedWrites(client: KubeClient, gate: WriteGate): LeaderWrites {
  return {
    async create<T>(path: string, body: unknown): Promise<T> {
      return client.create<T>(path, body, gate.callOptions());
    },
    async patch<T>(path: string, body: unknown, type?: Parameters<KubeClient['patch']>[2]): Promise<T> {
      return client.patch<T>(path, body, type, gate.callOptions());
    },
  };
}
