import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.ts';
import { WireWriter } from './protobuf/wire.ts';
import { decodeProtobufObject, encodeProtobufObject, prefersProtobuf, protobufKinds } from './protobuf.ts';

/** Bodies captured from kubectl 1.34's typed commands (`kubectl create …`). */
const CAPTURED = {
  namespace: 'azhzAAoPCgJ2MRIJTmFtZXNwYWNlEh8KFwoHZGVtby1ucxIAGgAiACoAMgA4AEIAEgAaAgoAGgAiAA==',
  configmap: 'azhzAAoPCgJ2MRIJQ29uZmlnTWFwEiQKGgoDY20xEgAaB2RlZmF1bHQiACoAMgA4AEIAEgYKAWESAWIaACIA',
  secret: 'azhzAAoMCgJ2MRIGU2VjcmV0EiUKGQoCczESABoHZGVmYXVsdCIAKgAyADgAQgASBgoBaxIBdhoAGgAiAA==',
  // kubectl create service loadbalancer web --tcp=80:8080
  service:
    'azhzAAoNCgJ2MRIHU2VydmljZRJsCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEkUKGwoHODAtODA4MBIDVENQGFAiBwgAEJA/GgAoABIKCgNhcHASA3dlYhoAIgxMb2FkQmFsYW5jZXI6AEIAUgBaAGAAaAAaAgoAGgAiAA==',
  // kubectl create deployment d1 --image=nginx --port=80 --replicas=2
  deployment:
    'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErQBCh0KAmQxEgAaACIAKgAyADgAQgBaCQoDYXBwEgJkMRKEAQgCEgsKCQoDYXBwEgJkMRprChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICZDESTBIuCgVuZ2lueBIFbmdpbngqADIKCgAQABhQIgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==',
  // kubectl create job j1 --image=busybox -- echo hi
  job: 'azhzAAoPCghiYXRjaC92MRIDSm9iEoQBChIKAmoxEgAaACIAKgAyADgAQgASZDJiChAKABIAGgAiACoAMgA4AEIAEk4SKwoCajESB2J1c3lib3gaBGVjaG8aAmhpKgBCAGoAcgCAAQCIAQCQAQCiAQAaBU5ldmVyMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAaCCAAKAAwADoAGgAiAA==',
  // kubectl create role r1 --verb=get --resource=pods
  role: 'azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEiMKEgoCcjESABoAIgAqADIAOABCABINCgNnZXQSABoEcG9kcxoAIgA=',
  // kubectl create rolebinding rb1 --role=r1 --user=u
  rolebinding:
    'azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtSb2xlQmluZGluZxJkChMKA3JiMRIAGgAiACoAMgA4AEIAEiYKBFVzZXISGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8aAXUiABolChlyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvEgRSb2xlGgJyMRoAIgA=',
  // kubectl create pdb p1 --selector=app=x --min-available=1
  pdb: 'azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSNgoSCgJwMRIAGgAiACoAMgA4AEIAEhQKBggAEAEaABIKCggKA2FwcBIBeBoKCAAYACAAKAAwABoAIgA=',
};
const body = (name: keyof typeof CAPTURED) => Buffer.from(CAPTURED[name], 'base64');
const decode = (name: keyof typeof CAPTURED) => decodeProtobufObject(body(name));

test('decodes what kubectl create sends for namespaces, configmaps and secrets', () => {
  assert.deepEqual(decode('namespace'), {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'demo-ns' },
  });
  assert.deepEqual(decode('configmap'), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm1', namespace: 'default' },
    data: { a: 'b' },
  });
  assert.deepEqual(decode('secret'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's1', namespace: 'default' },
    data: { k: Buffer.from('v').toString('base64') },
  });
});

test('decodes kubectl create service, deployment, job, role, rolebinding and pdb', () => {
  assert.deepEqual(decode('service'), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
      selector: { app: 'web' },
      type: 'LoadBalancer',
    },
  });
  assert.deepEqual(decode('deployment'), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd1', labels: { app: 'd1' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'd1' } },
      template: {
        metadata: { labels: { app: 'd1' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] },
      },
    },
  });
  assert.deepEqual(decode('job'), {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j1' },
    spec: {
      template: {
        spec: {
          containers: [{ name: 'j1', image: 'busybox', command: ['echo', 'hi'] }],
          restartPolicy: 'Never',
        },
      },
    },
  });
  assert.deepEqual(decode('role'), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r1' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
  });
  assert.deepEqual(decode('rolebinding'), {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'rb1' },
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'u' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r1' },
  });
  assert.deepEqual(decode('pdb'), {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'p1' },
    spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } },
  });
});

/** One stored-looking object per kind, as the server would answer it. */
const meta = {
  name: 'x',
  namespace: 'default',
  uid: '0b6c4c57-0f3a-4c0e-9a55-0d4c3f1e2a10',
  resourceVersion: '42',
  creationTimestamp: '2026-12-07T08:00:00Z',
  labels: { app: 'x' },
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'd', uid: 'u', controller: true }],
};
const SAMPLES: Record<string, Record<string, unknown>> = {
  'v1/Service': {
    metadata: meta,
    spec: {
      type: 'LoadBalancer',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30001 }],
      selector: { app: 'x' },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 31000,
      sessionAffinity: 'None',
      allocateLoadBalancerNodePorts: false,
      loadBalancerClass: 'metalbeacon.io/lb',
      internalTrafficPolicy: 'Cluster',
    },
    status: {
      loadBalancer: { ingress: [{ ip: '198.51.100.1', ipMode: 'VIP' }] },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          lastTransitionTime: '2026-12-07T08:00:01Z',
          reason: 'R',
          message: 'm',
        },
      ],
    },
  },
  'v1/Node': {
    metadata: meta,
    spec: { podCIDR: '10.244.0.0/24', taints: [{ key: 'k', effect: 'NoSchedule' }] },
    status: {
      capacity: { cpu: '2', memory: '4Gi' },
      conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-12-07T08:00:00Z' }],
      addresses: [{ type: 'InternalIP', address: '192.0.2.11' }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: { kubeletVersion: 'v1.34.0', architecture: 'amd64' },
    },
  },
  'coordination.k8s.io/v1/Lease': {
    metadata: meta,
    spec: {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      renewTime: '2026-12-07T08:00:00.123456Z',
      leaseTransitions: 0,
    },
  },
  'discovery.k8s.io/v1/EndpointSlice': {
    metadata: meta,
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false, serving: true }, nodeName: 'n1' }],
    ports: [{ name: '', port: 80, protocol: 'TCP' }],
  },
  'v1/Event': {
    metadata: meta,
    involvedObject: { kind: 'Service', name: 'x', namespace: 'default' },
    reason: 'IPAllocated',
    message: 'm',
    count: 2,
    type: 'Normal',
    eventTime: '2026-12-07T08:00:00.000001Z',
    source: { component: 'metalbeacon-controller' },
  },
  'apps/v1/DaemonSet': {
    metadata: meta,
    spec: {
      selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] },
      template: {
        metadata: { labels: { app: 'x' } },
        spec: {
          containers: [
            {
              name: 'speaker',
              image: 'i',
              env: [{ name: 'A', value: '1' }],
              resources: { limits: { memory: '100Mi' } },
            },
          ],
          hostNetwork: true,
          tolerations: [{ operator: 'Exists', tolerationSeconds: 0 }],
        },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
    },
    status: { numberReady: 2, desiredNumberScheduled: 3 },
  },
};

test('every sampled kind survives encode → decode, and every decoded kind is listed', () => {
  for (const [key, rest] of Object.entries(SAMPLES)) {
    const [apiVersion, kind] = [key.slice(0, key.lastIndexOf('/')), key.slice(key.lastIndexOf('/') + 1)];
    const obj = { apiVersion, kind, ...rest };
    const bytes = encodeProtobufObject(obj);
    assert.ok(bytes, `${key} encodes`);
    assert.deepEqual(decodeProtobufObject(bytes), obj, key);
  }
  assert.ok(protobufKinds().includes('apps/v1/Deployment'));
  const list = { apiVersion: 'v1', kind: 'ServiceList', metadata: { resourceVersion: '7' }, items: [] };
  assert.ok(encodeProtobufObject(list));
});

test('objects a descriptor cannot express, and unknown kinds, are not encoded (JSON is answered)', () => {
  assert.equal(
    encodeProtobufObject({ apiVersion: 'metalbeacon.io/v1beta1', kind: 'IPAddressPool' }),
    undefined,
  );
  const withVolume = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [], volumes: [{ name: 'v', emptyDir: {} }] },
  };
  assert.equal(encodeProtobufObject(withVolume), undefined);
});

/** A `k8s\0` envelope around `raw`, written by hand (runtime.Unknown: typeMeta 1, raw 2). */
function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = new WireWriter();
  typeMeta.writeBytes(1, Buffer.from(apiVersion));
  typeMeta.writeBytes(2, Buffer.from(kind));
  const w = new WireWriter();
  w.writeBytes(1, typeMeta.finish());
  w.writeBytes(2, raw);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), w.finish()]);
}

const clientError = (code: number, pattern: RegExp) => (e: unknown) =>
  e instanceof ApiError && e.code === code && pattern.test(e.message);

test('malformed bodies are 400s naming kind, field and problem', () => {
  const service = body('service');
  // Every truncation of a valid body: a clear 400 (or 415 before the kind is known), never a
  // crash; a cut at a field boundary of the envelope is a valid (shorter) message.
  let refused = 0;
  for (let end = 4; end < service.length; end++) {
    try {
      assert.equal(decodeProtobufObject(service.subarray(0, end)).kind ?? 'Service', 'Service');
    } catch (error) {
      assert.ok(error instanceof ApiError && (error.code === 400 || error.code === 415), String(error));
      refused++;
    }
  }
  assert.ok(refused >= service.length - 8, `${refused} of ${service.length - 4} truncations refused`);
  assert.throws(
    () => decodeProtobufObject(service.subarray(0, service.length - 10)),
    clientError(400, /^invalid protobuf body \(envelope\): envelope: field 2 says 108 bytes but \d+ remain/),
  );
  // The port's number as a string on the wire: the error names the field path.
  const wrongType = Buffer.from(service);
  const at = wrongType.indexOf(Buffer.from([0x18, 0x50])); // ServicePort.port = 80
  wrongType[at] = 0x1a; // field 3, wire type 2: length 0x50 runs past the end of the port
  assert.throws(() => decodeProtobufObject(wrongType), clientError(400, /\(v1\/Service\): spec\.ports\[0\]/));
  const badUtf8 = Buffer.from(service);
  badUtf8[badUtf8.indexOf('web')] = 0xff;
  assert.throws(() => decodeProtobufObject(badUtf8), clientError(400, /metadata\.name: not valid UTF-8/));
});

test('valid protobuf this server cannot represent is 415 naming what', () => {
  assert.throws(
    () => decodeProtobufObject(Buffer.from('{"kind":"x"}')),
    clientError(415, /no k8s protobuf envelope/),
  );
  assert.throws(
    () => decodeProtobufObject(envelope('apps/v1', 'ReplicaSetXYZ', Buffer.alloc(0))),
    clientError(415, /protobuf apps\/v1\/ReplicaSetXYZ is not decoded here/),
  );
  // A PodSpec volume (field 1): not decoded here, so refused rather than dropped.
  // raw: spec (2) { volumes (1): [{ name (1): '' }] }
  const pod = envelope('v1', 'Pod', Buffer.from([0x12, 0x04, 0x0a, 0x02, 0x0a, 0x00]));
  assert.throws(
    () => decodeProtobufObject(pod),
    clientError(
      415,
      /protobuf v1\/Pod: spec: field 1 of k8s\.io\.api\.core\.v1\.PodSpec is not decoded by this server; send it as JSON/,
    ),
  );
  const gzip = Buffer.concat([body('namespace'), Buffer.from([0x1a, 0x04]), Buffer.from('gzip')]);
  assert.throws(() => decodeProtobufObject(gzip), clientError(415, /content encoding "gzip"/));
});

test('random bodies behind the magic are 400/415, never a crash', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
      try {
        decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(bytes)]));
      } catch (error) {
        assert.ok(error instanceof ApiError && (error.code === 400 || error.code === 415), String(error));
      }
    }),
    { numRuns: 3000 },
  );
  // Mutations of a real body reach deeper than random bytes do.
  const service = body('service');
  fc.assert(
    fc.property(fc.nat(service.length - 5), fc.integer({ min: 0, max: 255 }), (i, byte) => {
      const mutated = Buffer.from(service);
      mutated[4 + i] = byte;
      try {
        decodeProtobufObject(mutated);
      } catch (error) {
        assert.ok(error instanceof ApiError && (error.code === 400 || error.code === 415), String(error));
      }
    }),
    { numRuns: 3000 },
  );
});

test('protobuf is answered only when the client lists it first', () => {
  assert.equal(prefersProtobuf('application/vnd.kubernetes.protobuf,application/json'), true);
  assert.equal(prefersProtobuf('application/json, */*'), false);
  assert.equal(prefersProtobuf('application/json;as=Table;v=v1;g=meta.k8s.io,application/json'), false);
  assert.equal(prefersProtobuf(undefined), false);
});
