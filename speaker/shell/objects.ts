import { API_VERSION, GROUP, VERSION } from '../../shared/api/names.ts';
import { isConflict, isNotFound, type KubeClient } from '../../shared/k8s/client.ts';
import type { KubeObject } from '../../shared/k8s/informer.ts';
import { type StatusObject, sameStatus } from '../status/status-objects.ts';

/** Where writes are counted: a Counter with the labels verb and result. */
export interface WriteCounter {
  inc(labels: { verb: string; result: 'ok' | 'error' }): void;
}

/** A cached object of ours as the informer holds it. */
export type CachedObject = KubeObject & { status?: Record<string, unknown> };

/** First line of an error, for logs. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

function sameLabels(
  actual: Readonly<Record<string, string>> | undefined,
  desired: Readonly<Record<string, string>>,
) {
  return Object.entries(desired).every(([k, v]) => actual?.[k] === v);
}

/**
 * Writes objects with a status subresource: create (the server drops `status` on create, so
 * the status follows in a second write), status patch when it differs, delete. 404 and 409
 * on create are not errors (someone else did it; the next pass sees the truth).
 */
export class StatusObjects {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #writes: WriteCounter;

  /** `writes` counts every write by verb and result (metrics.ts `statusWrites`). */
  constructor(client: KubeClient, namespace: string, writes: WriteCounter) {
    this.#client = client;
    this.#namespace = namespace;
    this.#writes = writes;
  }

  #onWrite(verb: string, ok: boolean): void {
    this.#writes.inc({ verb, result: ok ? 'ok' : 'error' });
  }

  /** The collection of `plural` in our namespace, or one object of it. */
  #path(plural: string, name?: string): string {
    const collection = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.#namespace)}/${plural}`;
    return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
  }

  /** Makes the object exist with this status; `cached` is what the informer holds, if anything. */
  async put(desired: StatusObject, cached: CachedObject | undefined): Promise<void> {
    const path = this.#path(desired.plural, desired.name);
    if (!cached) {
      try {
        await this.#client.create(this.#path(desired.plural), {
          apiVersion: API_VERSION,
          kind: desired.kind,
          metadata: { name: desired.name, namespace: this.#namespace, labels: { ...desired.labels } },
        });
        this.#onWrite('create', true);
      } catch (error) {
        if (!isConflict(error)) {
          this.#onWrite('create', false);
          throw error;
        }
      }
    } else if (!sameLabels(cached.metadata?.labels, desired.labels)) {
      await this.#client.patch(path, { metadata: { labels: { ...desired.labels } } }, 'merge');
      this.#onWrite('patch', true);
    }
    if (cached && sameStatus(cached.status, desired.status)) return;
    // Fields we no longer want are set to null so a merge patch removes them.
    const body: Record<string, unknown> = {};
    for (const key of Object.keys(cached?.status ?? {})) body[key] = null;
    Object.assign(body, desired.status);
    try {
      await this.#client.patch(`${path}/status`, { status: body }, 'merge');
      this.#onWrite('patch-status', true);
    } catch (error) {
      this.#onWrite('patch-status', false);
      throw error;
    }
  }

  /** Deletes; a missing object is fine. */
  async delete(plural: string, name: string): Promise<void> {
    try {
      await this.#client.delete(this.#path(plural, name));
      this.#onWrite('delete', true);
    } catch (error) {
      if (isNotFound(error)) return;
      this.#onWrite('delete', false);
      throw error;
    }
  }

  /** Lists objects by label selector (e.g. every object of one node). */
  async list(plural: string, labelSelector: string): Promise<CachedObject[]> {
    const result = await this.#client.list<CachedObject>(this.#path(plural), { labelSelector });
    return result.items ?? [];
  }
}
