import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keysFromSecret, MembershipSecretError } from './membership-secret.ts';

const b64 = (bytes: number, fill: number) => Buffer.alloc(bytes, fill).toString('base64');
const secret = (data: Record<string, string>) => ({ metadata: { namespace: 'ns', name: 'm' }, data });

describe('keysFromSecret', () => {
  it('puts the signing key first, then the verify-only keys in name order', () => {
    const keys = keysFromSecret(
      secret({ 'key-b': b64(16, 3), key: b64(32, 1), 'key-a': b64(20, 2), other: 'x' }),
    );
    assert.deepEqual(
      keys.map((k) => [k.length, k[0]]),
      [
        [32, 1],
        [20, 2],
        [16, 3],
      ],
    );
  });
  it('names the Secret and the data key when something is wrong', () => {
    assert.throws(() => keysFromSecret(secret({ 'key-a': b64(32, 1) })), {
      name: 'MembershipSecretError',
      message: 'Secret ns/m has no data key "key"',
    });
    assert.throws(
      () => keysFromSecret(secret({ key: b64(32, 1), 'key-old': b64(8, 1) })),
      (error: unknown) =>
        error instanceof MembershipSecretError &&
        /data\.key-old has 8 bytes; .* at least 16/.test(error.message),
    );
  });
});
