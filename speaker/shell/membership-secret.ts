import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { Timers } from '../../shared/daemon/timers.ts';
import { isConflict, isNotFound, type KubeClient } from '../../shared/k8s/client.ts';

/** Data key of the membership Secret whose value signs (and verifies) heartbeats. */
export const SIGNING_KEY = 'key';
/** Other data keys with this prefix only verify: the old key during a rotation. */
export const VERIFY_KEY_PREFIX = 'key-';
const MIN_KEY_BYTES = 16;

/** The membership Secret is missing a usable key; names the Secret and the data key. */
export class MembershipSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MembershipSecretError';
  }
}

/**
 * HMAC keys from the membership Secret: `key` first (it signs), then every `key-*` in name
 * order (they verify only). Each must be at least 16 bytes.
 */
export function keysFromSecret(secret: V1Secret): Uint8Array[] {
  const where = `Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''}`;
  const data = secret.data ?? {};
  const signing = data[SIGNING_KEY];
  if (signing === undefined) throw new MembershipSecretError(`${where} has no data key "${SIGNING_KEY}"`);
  const names = [
    SIGNING_KEY,
    ...Object.keys(data)
      .filter((k) => k.startsWith(VERIFY_KEY_PREFIX))
      .sort(),
  ];
  return names.map((name) => {
    const bytes = Buffer.from(data[name] ?? '', 'base64');
    if (bytes.length < MIN_KEY_BYTES) {
      throw new MembershipSecretError(
        `${where} data.${name} has ${bytes.length} bytes; membership keys need at least ${MIN_KEY_BYTES}`,
      );
    }
    return new Uint8Array(bytes);
  });
}

/** Where the membership Secret is read; the speaker never writes it. */
function secretPaths(namespace: string, name: string): { collection: string; object: string } {
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  return { collection, object: `${collection}/${encodeURIComponent(name)}` };
}

/**
 * The membership Secret as the install made it (the Helm chart, or the kustomize Job running
 * `metalbeacon membership-key`). A speaker starting first waits for it: it may read the Secret
 * by name only and can create none. Other failures (403: the Role does not name it) throw.
 */
export async function waitForMembershipSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  options: {
    readonly retryMs: number;
    readonly timers: Timers;
    readonly onWaiting: (attempt: number) => void;
  },
): Promise<V1Secret> {
  const { object } = secretPaths(namespace, name);
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.get<V1Secret>(object);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    options.onWaiting(attempt);
    await new Promise<void>((resolve) => options.timers.setTimeout(resolve, options.retryMs));
  }
}

/**
 * Creates the membership Secret with a random 32-byte key unless it exists (`metalbeacon
 * membership-key`, the install's one-shot Job). Create is atomic: when another run wins the
 * race (409 AlreadyExists), its Secret stays, so every speaker ends with the same key.
 */
export async function ensureMembershipSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ created: boolean }> {
  const { collection, object } = secretPaths(namespace, name);
  try {
    await client.get<V1Secret>(object);
    return { created: false };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  try {
    const body: V1Secret = {
      metadata: {
        name,
        namespace,
        labels: { 'app.kubernetes.io/name': 'metalbeacon', 'app.kubernetes.io/component': 'speaker' },
      },
      type: 'Opaque',
      data: { [SIGNING_KEY]: randomBytes(32).toString('base64') },
    };
    await client.create<V1Secret>(collection, body);
    return { created: true };
  } catch (error) {
    if (!isConflict(error)) throw error;
    return { created: false };
  }
}
