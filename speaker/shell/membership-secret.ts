import { randomBytes } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
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

/**
 * Reads the membership Secret, creating it with a random 32-byte key when missing. Create is
 * atomic: when another speaker wins the race (409 AlreadyExists), its Secret is read back,
 * so every speaker ends with the same key.
 */
export async function ensureMembershipSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<{ secret: V1Secret; created: boolean }> {
  const secrets = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const path = `${secrets}/${encodeURIComponent(name)}`;
  try {
    return { secret: await client.get<V1Secret>(path), created: false };
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
    const secret = await client.create<V1Secret>(secrets, body);
    return { secret, created: true };
  } catch (error) {
    if (!isConflict(error)) throw error;
    return { secret: await client.get<V1Secret>(path), created: false };
  }
}
