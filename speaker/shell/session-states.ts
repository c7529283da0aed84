import { PLURALS } from '../../shared/api/names.ts';
import { isNotFound } from '../../shared/k8s/client.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { nodeSelector, type SessionReport } from '../status/status-objects.ts';
import { prefixCountsMoved, sessionStateWrites } from '../status/status-sync.ts';
import type { StatusObjects } from './objects.ts';

/** BGPSessionState plural; the CRD is config/crd/metalbeacon.io_bgpsessionstates.yaml. */
const SESSION_STATES = PLURALS.BGPSessionState;

export interface SessionStatesOptions {
  readonly objects: Pick<StatusObjects, 'put' | 'delete' | 'list'>;
  readonly nodeName: string;
  /** The sessions running now (bgp-manager.ts). */
  readonly reports: () => readonly SessionReport[];
  readonly log: Logger;
}

/**
 * Publishes one BGPSessionState per session of this node (`<node>.<peer>`), written only when it
 * changed. Its CRD is optional: when the API server does not know the type, states are not
 * published and nothing else is held up.
 */
export class SessionStates {
  readonly #o: SessionStatesOptions;
  /** BGPSessionState name -> status last written */
  readonly #written = new Map<string, Record<string, unknown>>();
  #missing = false;

  constructor(options: SessionStatesOptions) {
    this.#o = options;
  }

  /** The BGPSessionState CRD is not installed. */
  get missing(): boolean {
    return this.#missing;
  }

  /**
   * Lists what a previous run of this node left behind, so the first sync rewrites or deletes
   * it. Any failure but the type's 404 is thrown: the speaker does not start on it.
   */
  async load(): Promise<void> {
    try {
      for (const o of await this.#o.objects.list(SESSION_STATES, nodeSelector(this.#o.nodeName))) {
        this.#written.set(o.metadata?.name ?? '', { stale: true });
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      this.#missing = true;
    }
  }

  /** Deletes the states of sessions gone, puts those that changed. */
  async sync(): Promise<void> {
    if (this.#missing) return;
    try {
      const writes = sessionStateWrites(this.#o.nodeName, this.#o.reports(), this.#written);
      for (const name of writes.delete) {
        await this.#o.objects.delete(SESSION_STATES, name);
        this.#written.delete(name);
      }
      for (const { object, previous } of writes.put) {
        const cached = previous
          ? { metadata: { name: object.name, labels: object.labels }, status: previous }
          : undefined;
        await this.#o.objects.put(object, cached);
        this.#written.set(object.name, { ...object.status });
      }
    } catch (error) {
      if (isNotFound(error) && (await this.#typeMissing())) {
        this.#missing = true;
        this.#o.log.warn('BGPSessionState CRD not installed; session states are not published');
        return;
      }
      throw error;
    }
  }

  /** A session's prefix count moved since its state was written (counts change without a state change). */
  prefixesMoved(): boolean {
    return prefixCountsMoved(this.#o.nodeName, this.#o.reports(), this.#written);
  }

  /** A 404 on one object, or on the whole type? Listing tells. */
  async #typeMissing(): Promise<boolean> {
    try {
      await this.#o.objects.list(SESSION_STATES, nodeSelector(this.#o.nodeName));
      return false;
    } catch (error) {
      return isNotFound(error);
    }
  }
}
