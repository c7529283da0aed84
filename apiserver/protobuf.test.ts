import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.ts';
import { decodeProtobufObject } from './protobuf.ts';

/** Bodies captured from kubectl 1.34 (`kubectl create namespace|configmap|secret generic`). */
const CAPTURED = {
  namespace: 'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh8KFwoHZGVtby1ucxIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==',
  configmap: 'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKGgoDY20xEgAaB2RlZmF1bHQiACoAMgA4AEIAEgYKAWESAWIaACIA',
  secret: 'azhzAAoMCgJ2MRIGU2VjcmV0EiUKGQoCczESABoHZGVmYXVsdCIAKgAyADgAQgASBgoBaxIBdhoAGgAiAA==',
};

test('decodes what kubectl create sends for namespaces, configmaps and secrets', () => {
  const decode = (b64: string) => decodeProtobufObject(Buffer.from(b64, 'base64'));
  assert.deepEqual(decode(CAPTURED.namespace), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'demo-ns' },
  });
  assert.deepEqual(decode(CAPTURED.configmap), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm1', namespace: 'default' },
    data: { a: 'b' },
  });
  assert.deepEqual(decode(CAPTURED.secret), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's1', namespace: 'default' },
    data: { k: Buffer.from('v').toString('base64') },
  });
});

test('other kinds and garbage are 415/400, never a crash', () => {
  const isClientError = (e: unknown) => e instanceof ApiError && (e.code === 415 || e.code === 400);
  assert.throws(() => decodeProtobufObject(Buffer.from('{"kind":"x"}')), isClientError);
  // A Deployment envelope: not decoded here.
  const deployment = Buffer.concat([
    Buffer.from('k8s\0', 'binary'),
    Buffer.from([0x0a, 0x15, 0x0a, 0x07]),
    Buffer.from('apps/v1'),
    Buffer.from([0x12, 0x0a]),
    Buffer.from('Deployment'),
  ]);
  assert.throws(
    () => decodeProtobufObject(deployment),
    (e: unknown) => e instanceof ApiError && e.code === 415,
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from(bytes)]);
      try {
        decodeProtobufObject(body);
      } catch (error) {
        assert.ok(isClientError(error), String(error));
      }
    }),
    { numRuns: 2000 },
  );
});
