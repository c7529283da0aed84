import {
  type CustomObjectsApi,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../shared/api/names.ts';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** One of our objects with everything in `status` (ServiceL2Status, ServiceBGPStatus, BGPSessionState). */
export interface StatusObject {
  readonly kind: string;
  readonly plural: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly status: Readonly<Record<string, unknown>>;
}

/** A cached object of ours as the informer holds it. */
export type CachedObject = KubernetesObject & { status?: Record<string, unknown> };

/** The HTTP status of a client-node ApiException, if it is one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** First line of an error, for logs. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error);
}

/** Whether `actual` already holds every field of `desired` (JSON equality per field). */
export function sameStatus(
  actual: Readonly<Record<string, unknown>> | undefined,
  desired: Readonly<Record<string, unknown>>,
): boolean {
  if (!actual) return false;
  const keys = new Set([...Object.keys(actual), ...Object.keys(desired)]);
  for (const key of keys) if (JSON.stringify(actual[key]) !== JSON.stringify(desired[key])) return false;
  return true;
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
  readonly #api: CustomObjectsApi;
  readonly #namespace: string;
  readonly #onWrite: (verb: string, ok: boolean) => void;

  constructor(api: CustomObjectsApi, namespace: string, onWrite: (verb: string, ok: boolean) => void) {
    this.#api = api;
    this.#namespace = namespace;
    this.#onWrite = onWrite;
  }

  /** Makes the object exist with this status; `cached` is what the informer holds, if anything. */
  async put(desired: StatusObject, cached: CachedObject | undefined): Promise<void> {
    const common = { group: GROUP, version: VERSION, namespace: this.#namespace, plural: desired.plural };
    if (!cached) {
      try {
        await this.#api.createNamespacedCustomObject({
          ...common,
          body: {
            apiVersion: API_VERSION,
            kind: desired.kind,
            metadata: { name: desired.name, namespace: this.#namespace, labels: { ...desired.labels } },
          },
        });
        this.#onWrite('create', true);
      } catch (error) {
        if (statusOf(error) !== 409) {
          this.#onWrite('create', false);
          throw error;
        }
      }
    } else if (!sameLabels(cached.metadata?.labels, desired.labels)) {
      await this.#api.patchNamespacedCustomObject(
        { ...common, name: desired.name, body: { metadata: { labels: { ...desired.labels } } } },
        MERGE,
      );
      this.#onWrite('patch', true);
    }
    if (cached && sameStatus(cached.status, desired.status)) return;
    // Fields we no longer want are set to null so a merge patch removes them.
    const body: Record<string, unknown> = {};
    for (const key of Object.keys(cached?.status ?? {})) body[key] = null;
    Object.assign(body, desired.status);
    try {
      await this.#api.patchNamespacedCustomObjectStatus(
        { ...common, name: desired.name, body: { status: body } },
        MERGE,
      );
      this.#onWrite('patch-status', true);
    } catch (error) {
      this.#onWrite('patch-status', false);
      throw error;
    }
  }

  /** Deletes; a missing object is fine. */
  async delete(plural: string, name: string): Promise<void> {
    try {
      await this.#api.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.#namespace,
        plural,
        name,
      });
      this.#onWrite('delete', true);
    } catch (error) {
      if (statusOf(error) === 404) return;
      this.#onWrite('delete', false);
      throw error;
    }
  }

  /** Lists objects by label selector (e.g. every object of one node). */
  async list(plural: string, labelSelector: string): Promise<CachedObject[]> {
    const result = (await this.#api.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.#namespace,
      plural,
      labelSelector,
    })) as { items?: CachedObject[] };
    return result.items ?? [];
  }
}
